"""What a NEMS event message's MessageHeader says: which event, new/update/delete, which version.

Published rules (NEMS "Generic Event Message Requirements"): the MessageHeader is the first entry;
its `messageEventType` extension says `new`, `update` or `delete`; `meta.versionId` is a sequence
number per patient and event type, `meta.lastUpdated` the instant the change happened; either
orders messages that arrive out of order. The version here is the sequence number when given,
else that instant, else the message timestamp, so a late older update never overwrites a newer one.

Which system: `MessageHeader.source.endpoint` names the publishing system (an ODS address,
`urn:nhs-uk:addressing:ods:<code>`, in the published examples). The record's source system is that
endpoint inside the sending partner's namespace, so two partners naming the same endpoint never
share a record; an endpoint naming an organisation or hubnet partner that is not the sender's own
is refused (`OwnershipError`), since it asks to change another partner's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from connectors.common.fhir_time import meta_version, parse_fhir_datetime, utc_stamp
from schemas.errors import MappingError, OwnershipError
from schemas.identifiers import local_system, partner_of_system

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


ODS_ENDPOINT = "urn:nhs-uk:addressing:ods:"
HUB_PARTNER_ENDPOINT = "urn:hubnet:partner:"
"""How a hub event names its partner (`HubEvent.to_bundle`): an endpoint a partner may not borrow."""


def read_header(header: dict[str, Any], partner: str, org_ids: tuple[str, ...] = ()) -> MessageFacts:
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
        source_system=source_system(header, partner, org_ids),
        focus=focus[0],
        routing_nhs_number=_routing_nhs_number(header),
    )


def source_system(header: dict[str, Any], partner: str, org_ids: tuple[str, ...]) -> str:
    """The partner's own system the message comes from; `OwnershipError` when the endpoint names
    another partner's (its ODS code is not registered to the sender, when the registry is known)."""
    endpoint = str((header.get("source") or {}).get("endpoint") or "").strip()
    if not endpoint:
        return local_system(partner, "nems")
    owner = _named_partner(endpoint)
    ods = endpoint[len(ODS_ENDPOINT) :].strip().upper() if endpoint.startswith(ODS_ENDPOINT) else None
    if (owner is not None and owner != partner) or (ods is not None and org_ids and ods not in org_ids):
        raise OwnershipError(
            f"the message's source endpoint '{endpoint}' is not a system of partner '{partner}'",
            location="MessageHeader.source.endpoint",
            hint="send messages from your own registered systems only; a partner changes or deletes only "
            "the records it sent",
        )
    return local_system(partner, "nems/" + quote(endpoint, safe=""))


def _named_partner(endpoint: str) -> str | None:
    """The hubnet partner an endpoint spells out, if it is written as one of hubnet's own names."""
    if endpoint.startswith(HUB_PARTNER_ENDPOINT):
        return endpoint[len(HUB_PARTNER_ENDPOINT) :] or None
    return partner_of_system(endpoint)


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
