"""Referral messages on `fh.referrals`: FHIR message Bundles (the hub envelope) carrying a BaRS-style
`Task` (whose status tracks the lifecycle) and the hub's `ServiceRequest` for the referral.

    Bundle(type=message, id = event id from referral id + message sequence number)
      MessageHeader  eventCoding referral-status-changed, source hubnet-referrals
      Task           id from referral id + attempt number: the same Task on every re-send
                     status (FHIR), businessStatus (hub status + DfE connection status),
                     statusReason, owner (the service at a site, or the district's hub manager),
                     priority urgent once past its SLA,
                     restriction.period.end (SLA due), note (the routing explanation, line by line)
      ServiceRequest the hub's copy: need as category, partner's codes, basedOn the partner's request

Kafka key = referral id (one referral's messages stay in order); headers add referral_id, status,
referrer (the partner to tell), district and offer_id. Built only from stored state, so a restart
re-emits byte-identical messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.common.fhir_sensitivity import label
from connectors.common.fhir_validation import validate_resource
from schemas.envelope import Entry, HubEvent, Identifier, Sensitivity, resource_id
from schemas.event_types import EventType
from schemas.identifiers import HUB_CODE_SYSTEMS
from services.referrals.lifecycle import READINGS, REJECTED_READING, Status
from services.referrals.network import Network
from services.referrals.store import Referral

ROUTER_PARTNER = "hubnet-referrals"
REFERRAL_SYSTEM = "https://hubnet.example.org/Id/referral"
TASK_SYSTEM = "https://hubnet.example.org/Id/referral-task"
OFFER_SYSTEM = "https://hubnet.example.org/Id/hub-service-offer"
NEED_SYSTEM = HUB_CODE_SYSTEMS + "hub-need"
STATUS_SYSTEM = HUB_CODE_SYSTEMS + "referral-status"
DFE_STATUS_SYSTEM = HUB_CODE_SYSTEMS + "dfe-connection-request-status"
REJECTED = "rejected"


def task_id(referral_id: str, attempt: int) -> str:
    """One Task per service asked: the same id whenever this attempt is re-sent."""
    return resource_id("hub-referral-task", referral_id, str(attempt))


def service_request_id(referral_id: str) -> str:
    return resource_id("hub-referral-request", referral_id)


def referral_event(
    referral: Referral, network: Network, notes: list[str], *, rejected: bool = False, due: str | None = None
) -> HubEvent:
    """The message for the referral's current state (or, `rejected`, for its attempt just declined)."""
    sensitivity = Sensitivity(referral.sensitivity)
    request = label(validate_resource(_service_request(referral, network)), sensitivity)
    task = _task(referral, network, notes, request["id"], rejected=rejected, due=due)
    # Validated without its notes: they are plain text lines this module shapes as {"text": ...},
    # and one Annotation model per routing candidate would cost more than everything else.
    validate_resource({name: value for name, value in task.items() if name != "note"})
    task = label(task, sensitivity)
    moment = datetime.fromisoformat(referral.updated_at)
    return HubEvent.create(
        event_type=EventType.REFERRAL_STATUS_CHANGED,
        source_partner=ROUTER_PARTNER,
        source_system=REFERRAL_SYSTEM,
        source_record_id=referral.referral_id,
        record_version=str(referral.seq),
        occurred_at=moment,
        ingested_at=moment,
        subjects=[Identifier(**s) for s in referral.request["subjects"]],
        entries=[Entry.of(task), Entry.of(request)],
        sensitivity=sensitivity,
        trace_id=referral.request["trace_id"],
    )


def kafka_message(event: HubEvent, referral: Referral) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of a referral message."""
    headers = [
        *event.headers(),
        ("referral_id", referral.referral_id.encode()),
        ("referral_status", referral.status.value.encode()),
        ("referrer", referral.referrer.encode()),
        ("district", (referral.district or "").encode()),
        ("offer_id", (referral.offer_id or "").encode()),
    ]
    return referral.referral_id.encode(), event.to_bytes(), headers


def _subject(referral: Referral) -> dict[str, Any]:
    first = referral.request["subjects"][0]
    return {"type": "Patient", "identifier": {"system": first["system"], "value": first["value"]}}


def _owner(referral: Referral, network: Network) -> dict[str, Any]:
    offer = network.offer(referral.offer_id or "")
    if offer is None:
        return {"display": f"Hub manager, {network.area_name(referral.district or referral.home_district)}"}
    site = network.sites.get(offer.site_id)
    return {
        "type": "HealthcareService",
        "identifier": {"system": OFFER_SYSTEM, "value": offer.offer_id},
        "display": f"{offer.name}, {site.name if site else offer.site_id}",
    }


def _service_request(referral: Referral, network: Network) -> dict[str, Any]:
    original = referral.request["service_request"]
    status = {Status.COMPLETED: "completed", Status.CANCELLED: "revoked", Status.LINKED: "revoked"}
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": service_request_id(referral.referral_id),
        "identifier": [{"system": REFERRAL_SYSTEM, "value": referral.referral_id}],
        "basedOn": [
            {
                "type": "ServiceRequest",
                "identifier": {"system": referral.source_system, "value": referral.source_record_id},
            }
        ],
        "status": status.get(referral.status, "active"),
        "intent": "order",
        "subject": _subject(referral),
        "authoredOn": referral.created_at,
        "requester": {"display": referral.referrer},
    }
    if referral.need:
        display = network.needs[referral.need].display if referral.need in network.needs else referral.need
        resource["category"] = [
            {"coding": [{"system": NEED_SYSTEM, "code": referral.need, "display": display}]}
        ]
    if isinstance(original.get("code"), dict):
        resource["code"] = original["code"]
    if referral.offer_id:
        resource["performer"] = [_owner(referral, network)]
    return resource


def _task(
    referral: Referral,
    network: Network,
    notes: list[str],
    request_id: str,
    *,
    rejected: bool,
    due: str | None,
) -> dict[str, Any]:
    reading = REJECTED_READING if rejected else READINGS[referral.status]
    hub_status = REJECTED if rejected else referral.status.value
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": task_id(referral.referral_id, referral.attempt),
        "identifier": [{"system": TASK_SYSTEM, "value": f"{referral.referral_id}/{referral.attempt}"}],
        "basedOn": [{"reference": f"urn:uuid:{request_id}"}],
        "status": reading.task_status,
        "businessStatus": {
            "coding": [
                {"system": STATUS_SYSTEM, "code": hub_status},
                {"system": DFE_STATUS_SYSTEM, "code": reading.dfe_status},
            ]
        },
        "statusReason": {"text": referral.reason},
        "intent": "order",
        "focus": {"reference": f"urn:uuid:{request_id}"},
        "for": _subject(referral),
        "authoredOn": referral.created_at,
        "lastModified": referral.updated_at,
        "requester": {"display": referral.referrer},
        "owner": _owner(referral, network),
    }
    if referral.escalated_at and not rejected:
        task["priority"] = "urgent"  # past its SLA: on the hub manager's overdue list
    if referral.linked_to:
        task["partOf"] = [{"identifier": {"system": REFERRAL_SYSTEM, "value": referral.linked_to}}]
    if due and not rejected:
        task["restriction"] = {"period": {"end": due}}
    if notes:
        task["note"] = [{"text": line} for line in notes]
    return task
