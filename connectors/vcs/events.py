"""A checked voluntary-sector activity as one hub event: the activity resource, the Patient, the charity.

- session-attended, relationship-support, housing-advice, debt-advice: Encounter (finished),
  hub event `community-activity`;
- parenting-course-started, parenting-course-completed: Observation (final), `community-activity`;
- foodbank-referral: ServiceRequest (active order), `referral-requested`.

Relationship support is RESTRICTED: it is where domestic abuse comes to light, and hub staff must
not see it without the right role. Resource ids derive from the partner and record id, so a
corrected resend (higher `record_version`) replaces the same resources.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from connectors.base import SourceContext
from connectors.common.demographics import patient_resource
from connectors.common.fhir_sensitivity import label
from connectors.common.fhir_validation import validate_resource
from connectors.vcs.activity import ACTIVITIES, Activity
from schemas.envelope import Entry, HubEvent, Identifier, Sensitivity, resource_id
from schemas.event_types import EventType
from schemas.identifiers import HUB_CODE_SYSTEMS, local_system

ACTIVITY_SYSTEM = HUB_CODE_SYSTEMS + "vcs-activity"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
OBSERVED = frozenset({"parenting-course-started", "parenting-course-completed"})
REFERRALS = frozenset({"foodbank-referral"})
RESTRICTED = frozenset({"relationship-support"})


def source_system(partner: str) -> str:
    """The record-id namespace of one partner's activity records."""
    return local_system(partner, "vcs-activity")


def activity_events(activity: Activity, ctx: SourceContext) -> list[HubEvent]:
    """The one hub event of an activity, its resources validated."""
    system = source_system(ctx.partner)
    patient = patient_resource(
        activity.person, resource_id(system, "Patient", activity.person.identifiers[0].token)
    )
    organisation = _organisation(activity.organisation)
    _check_organisation(activity.organisation)
    sensitivity = Sensitivity.RESTRICTED if activity.activity in RESTRICTED else Sensitivity.NORMAL
    main = label(_main_resource(activity, system, patient["id"], organisation["id"]), sensitivity)
    entries = [
        Entry.of(validate_resource(main)),
        Entry.of(validate_resource(patient)),
        Entry.of(organisation),
    ]
    return [
        HubEvent.create(
            event_type=EventType.REFERRAL_REQUESTED
            if activity.activity in REFERRALS
            else EventType.COMMUNITY_ACTIVITY,
            source_partner=ctx.partner,
            source_system=system,
            source_record_id=activity.record_id,
            record_version=activity.record_version,
            occurred_at=activity.occurred_at,
            ingested_at=ctx.received_at,
            subjects=activity.person.identifiers,
            entries=entries,
            sensitivity=sensitivity,
            trace_id=ctx.trace_id,
        )
    ]


def _organisation(number: Identifier) -> dict[str, Any]:
    """The charity, known by its registered number only (the contract carries no name)."""
    return {
        "resourceType": "Organization",
        "id": resource_id("vcs-organisation", number.token),
        "identifier": [{"system": number.system, "value": number.value}],
    }


@cache
def _check_organisation(number: Identifier) -> None:
    """Validate a charity's Organization once per process: it is the same for all its records,
    and FHIR validation is most of the cost of an event."""
    validate_resource(_organisation(number))


def _main_resource(activity: Activity, system: str, patient_id: str, organisation_id: str) -> dict[str, Any]:
    """The resource saying what happened; notes go in `note` where FHIR R4 has one (not Encounter)."""
    display = ACTIVITIES[activity.activity]
    code = {"coding": [{"system": ACTIVITY_SYSTEM, "code": activity.activity, "display": display}]}
    when = activity.occurred_at.isoformat()
    charity = {"reference": f"urn:uuid:{organisation_id}"}
    resource: dict[str, Any]
    if activity.activity in REFERRALS:
        resource = {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "code": code,
            "authoredOn": when,
            "requester": charity,
        }
        if activity.service_name:
            resource["performer"] = [{"display": activity.service_name}]
    elif activity.activity in OBSERVED:
        resource = {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": "social-history"}]}],
            "code": code,
            "effectiveDateTime": when,
            "performer": [
                {**charity, "display": activity.service_name} if activity.service_name else charity
            ],
        }
    else:
        resource = {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": ACT_CODE_SYSTEM, "code": "AMB", "display": "ambulatory"},
            "type": [code],
            "period": {"start": when},
            "serviceProvider": charity,
        }
        if activity.service_name:
            resource["serviceType"] = {"text": activity.service_name}
    resource["id"] = resource_id(system, activity.record_id, resource["resourceType"])
    resource["identifier"] = [{"system": system, "value": activity.record_id}]
    resource["subject"] = {"reference": f"urn:uuid:{patient_id}"}
    if activity.notes and resource["resourceType"] != "Encounter":
        resource["note"] = [{"text": activity.notes}]
    return resource
