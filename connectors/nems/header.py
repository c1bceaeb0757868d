"""What a NEMS event message's MessageHeader says: which event, new/update/delete, which version.

Published rules (NEMS "Generic Event Message Requirements"): the MessageHeader is the first entry;
its `messageEventType` extension says `new`, `update` or `delete`; `meta.versionId` is a sequence
number per patient and event type, `meta.lastUpdated` the instant the change happened; either
orders messages that arrive out of order. The version here is the sequence number when given,
else that instant, else the message timestamp, so a late older update never overwrites a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from connectors.common.fhir_time import meta_version, parse_fhir_datetime, utc_stamp
from schemas.errors import MappingError
from schemas.identifiers import local_system

Lifecycle = Literal["new", "update", "delete"]
_LIFECYCLES: tuple[Lifecycle, ...] = ("new", "update", "delete")


@dataclass(frozen=True)
class MessageFacts:
    """The routing facts of one event message."""

    lifecycle: Lifecycle
    event_code: str
    version: str
    sent_at: datetime
    source_system: str
    focus: str
    routing_nhs_number: str | None


def read_header(header: dict[str, Any], partner: str) -> MessageFacts:
    """Facts of a (validated STU3) MessageHeader; `MappingError` names what is missing."""
    sent_at = parse_fhir_datetime(str(header.get("timestamp") or ""))
    if sent_at is None:
        raise MappingError("the message has no timestamp", location="MessageHeader.timestamp")
    focus = [f.get("reference") for f in header.get("focus") or [] if isinstance(f, dict)]
    if not focus or not isinstance(focus[0], str):
        raise MappingError(
            "the message names no focus resource",
            location="MessageHeader.focus",
            hint="reference the resource the event is about, as the event message guide requires",
        )
    return MessageFacts(
        lifecycle=_lifecycle(header),
        event_code=str((header.get("event") or {}).get("code") or ""),
        version=meta_version(header) or utc_stamp(sent_at),
        sent_at=sent_at,
        source_system=str((header.get("source") or {}).get("endpoint") or local_system(partner, "nems")),
        focus=focus[0],
        routing_nhs_number=_routing_nhs_number(header),
    )


def _lifecycle(header: dict[str, Any]) -> Lifecycle:
    for extension in header.get("extension") or []:
        if "MessageEventType" not in str(extension.get("url")):
            continue
        for coding in (extension.get("valueCodeableConcept") or {}).get("coding") or []:
            for lifecycle in _LIFECYCLES:
                if coding.get("code") == lifecycle:
                    return lifecycle
    raise MappingError(
        "the message does not say whether it is new, an update or a delete",
        location="MessageHeader.extension(messageEventType)",
        hint="add the messageEventType extension with code new, update or delete",
    )


def _routing_nhs_number(header: dict[str, Any]) -> str | None:
    """The NHS number NEMS routed the message on (routingDemographics extension), if present."""
    for extension in header.get("extension") or []:
        if "RoutingDemographics" not in str(extension.get("url")):
            continue
        for part in extension.get("extension") or []:
            identifier = part.get("valueIdentifier") or {}
            if part.get("url") == "nhsNumber" and identifier.get("value"):
                return str(identifier["value"])
    return None
