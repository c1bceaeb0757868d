"""Assemble hub events for one social care record: every event carries the child's Patient, so
references inside it resolve, and every resource is labelled and validated once before it leaves.

When the source names its local authority (the CIN census header's LA code), every reference to
the authority in the resources, and the Patient's managing organisation, carry that code.

Sensitivity is the higher of what the mapping knows (child protection, looked after, missing,
abuse codes) and what the shared topic rules find in the resources' coded text, so a free-text
reason mentioning domestic abuse is restricted too. Restricted resources carry `meta.security`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.base import SourceContext
from connectors.common.fhir_sensitivity import sensitivity_of
from connectors.common.record_events import PersonEvents, RecordEvents
from connectors.social_care import resources
from connectors.social_care.identity import Child
from connectors.social_care.resources import with_authority
from connectors.social_care.timing import at_midnight
from schemas.envelope import HubEvent, Identifier, Sensitivity
from schemas.event_types import EventType

STEP_DOWN_SUFFIX = "/step-down"
"""A step-down referral is its own source record, so its event id differs from the closure's."""


@dataclass(frozen=True)
class ChildEvents(PersonEvents):
    """The events of one record about one child."""

    child: Child

    @classmethod
    def start(
        cls,
        ctx: SourceContext,
        source_system: str,
        record_version: str,
        child: Child,
        family: Identifier | None = None,
    ) -> ChildEvents:
        """`family` (the authority's family/household group id) follows the child's own
        identifiers in the subjects: it tells identity resolution whom the child lives with,
        while the Kafka key stays the child's id."""
        subjects = (*child.subjects, family) if family else child.subjects
        return cls(RecordEvents(ctx, source_system, record_version, subjects), child.patient(), child)

    def event(
        self,
        event_type: EventType,
        record_id: str,
        occurred: date | datetime,
        resources: Sequence[dict[str, Any]],
        restricted: bool = False,
    ) -> HubEvent:
        """The resources and the Patient, all labelled with the event's sensitivity: the higher of
        what the mapping knows (`restricted`) and what the resources' coded text shows."""
        if self.child.authority:
            resources = [with_authority(r, self.child.authority) for r in resources]
        found = sensitivity_of(list(resources))
        sensitivity = Sensitivity.RESTRICTED if restricted and found is Sensitivity.NORMAL else found
        return self.person_event(
            event_type, record_id, _instant(occurred), resources, sensitivity, label_patient=True
        )

    def step_down(self, record_id: str, closed: date, reasons: list[dict[str, Any]]) -> HubEvent:
        """CIN closure RC9: the case is referred to early help, i.e. into the family hub network,
        as a hub referral the referral router picks up (besides the closure event itself)."""
        step_id = record_id + STEP_DOWN_SUFFIX
        request = resources.service_request(
            self.resource_id("ServiceRequest", step_id),
            self.patient_reference,
            "early-help-referral",
            closed,
            active=True,
            reasons=reasons,
            performer=resources.FAMILY_HUBS,
        )
        request["requester"] = {"display": resources.LOCAL_AUTHORITY}
        return self.event(EventType.REFERRAL_REQUESTED, step_id, closed, [request])

    def retraction(self, record_id: str, occurred: date | datetime) -> HubEvent:
        return super().retraction(record_id, _instant(occurred))


def _instant(moment: date | datetime) -> datetime:
    return moment if isinstance(moment, datetime) else at_midnight(moment)
