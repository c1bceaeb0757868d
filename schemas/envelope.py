"""The hub event envelope: a FHIR R4 message Bundle, as NHS EMS and BaRS exchange them.

Layout on the wire (JSON bytes, Kafka key = subject, Kafka headers repeat the routing facts):

    Bundle(type=message, id=event id, timestamp=ingested-at, meta.security=sensitivity)
      entry[0] MessageHeader(eventCoding=hub event code, source=partner, focus=main resource,
                             extensions: occurred-at, source record, subjects, trace id, retracts)
      entry[1..] the resources

Processors read `HubEvent` (this module) and never re-validate the FHIR resources: connectors
validate once at the edge, as DESIGN.md decides.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.event_types import CODE_SYSTEM_URL, EventType, definition
from schemas.identifiers import HUB_EXTENSIONS, NHS_NUMBER, UPN

SCHEMA_VERSION = "1"
EVENT_ID_NAMESPACE = uuid.UUID("6f1e5f0a-8d3c-5b7e-9a41-2c0b7d4e8f11")
EXT = HUB_EXTENSIONS
EXT_OCCURRED_AT = EXT + "occurred-at"
EXT_SOURCE_RECORD = EXT + "source-record"
EXT_SUBJECT = EXT + "subject-identifier"
EXT_TRACE_ID = EXT + "trace-id"
EXT_RETRACTS = EXT + "retracts-event"
EVENT_ID_SYSTEM = "https://hubnet.example.org/Id/event"
CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
_KEY_PREFERENCE = (NHS_NUMBER, UPN)


class Sensitivity(StrEnum):
    """HL7 v3 confidentiality codes, carried in `Bundle.meta.security`."""

    NORMAL = "N"
    RESTRICTED = "R"
    VERY_RESTRICTED = "V"


class Identifier(BaseModel):
    """A subject identifier in FHIR token form: system plus value."""

    model_config = ConfigDict(frozen=True)

    system: str = Field(min_length=1)
    value: str = Field(min_length=1)

    @property
    def token(self) -> str:
        return f"{self.system}|{self.value}"


class Entry(BaseModel):
    """One resource with its fullUrl, so references between resources in an event resolve."""

    model_config = ConfigDict(frozen=True)

    full_url: str
    resource: dict[str, Any]

    @classmethod
    def of(cls, resource: dict[str, Any]) -> Self:
        """Entry for a resource whose `id` is a UUID (see `resource_id`)."""
        return cls(full_url=f"urn:uuid:{resource['id']}", resource=resource)


def _uuid5(name: str) -> str:
    """`str(uuid.uuid5(EVENT_ID_NAMESPACE, name))`, computed without building `UUID` objects:
    connectors make several ids per record and the objects cost more than the hash."""
    state = _NAMESPACE_HASH.copy()
    state.update(name.encode())
    digest = bytearray(state.digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"


_NAMESPACE_HASH = hashlib.sha1(EVENT_ID_NAMESPACE.bytes, usedforsecurity=False)


def event_id_for(source_system: str, record_id: str, version: str) -> str:
    """Same source record and version -> same id, so redelivery and resends are idempotent. Keyed
    by the owner too: every partner's source systems lie in its own namespace (enforced for every
    format by `Connector.convert`), so two partners' records never share an id."""
    return _uuid5(f"{source_system}\x1f{record_id}\x1f{version}")


def resource_id(*parts: str) -> str:
    """Deterministic UUID for a resource built from a source record, stable across re-runs."""
    return _uuid5("\x1f".join(parts))


def new_trace_id() -> str:
    return uuid.uuid4().hex


class HubEvent(BaseModel):
    """What every processor reads: routing facts plus the FHIR entries of one event."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_type: EventType
    source_partner: str = Field(min_length=1)
    source_system: str = Field(min_length=1)
    source_record_id: str = Field(min_length=1)
    record_version: str = Field(
        min_length=1,
        description="Grows with each change of the source record: a sequence number or a UTC ISO timestamp.",
    )
    occurred_at: datetime
    ingested_at: datetime
    subjects: tuple[Identifier, ...] = Field(min_length=1)
    sensitivity: Sensitivity = Sensitivity.NORMAL
    trace_id: str
    schema_version: str = SCHEMA_VERSION
    retracts: str | None = Field(
        default=None,
        description="A source_record_id of the same source_system whose earlier events leave the timeline.",
    )
    focus: str | None = None
    entries: tuple[Entry, ...] = ()

    @field_validator("occurred_at", "ingested_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @classmethod
    def create(
        cls,
        *,
        event_type: EventType,
        source_partner: str,
        source_system: str,
        source_record_id: str,
        record_version: str,
        occurred_at: datetime,
        subjects: list[Identifier] | tuple[Identifier, ...],
        entries: list[Entry] | tuple[Entry, ...] = (),
        sensitivity: Sensitivity = Sensitivity.NORMAL,
        trace_id: str | None = None,
        ingested_at: datetime | None = None,
        retracts: str | None = None,
        focus: str | None = None,
    ) -> HubEvent:
        """Build an event; the id is derived from source system, record id and version."""
        return cls(
            event_id=event_id_for(source_system, source_record_id, record_version),
            event_type=event_type,
            source_partner=source_partner,
            source_system=source_system,
            source_record_id=source_record_id,
            record_version=record_version,
            occurred_at=occurred_at,
            ingested_at=ingested_at or datetime.now(UTC),
            subjects=tuple(subjects),
            sensitivity=sensitivity,
            trace_id=trace_id or new_trace_id(),
            retracts=retracts,
            focus=focus or (entries[0].full_url if entries else None),
            entries=tuple(entries),
        )

    @property
    def key(self) -> bytes:
        """Kafka key: the strongest subject identifier, so one person's events stay ordered."""
        for system in _KEY_PREFERENCE:
            for ident in self.subjects:
                if ident.system == system:
                    return ident.token.encode()
        return self.subjects[0].token.encode()

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers: routing facts readable without parsing the body."""
        return [
            ("event_id", self.event_id.encode()),
            ("event_type", self.event_type.value.encode()),
            ("source_partner", self.source_partner.encode()),
            ("occurred_at", _iso(self.occurred_at).encode()),
            ("ingested_at", _iso(self.ingested_at).encode()),
            ("trace_id", self.trace_id.encode()),
            ("schema_version", self.schema_version.encode()),
        ]

    def to_bundle(self) -> dict[str, Any]:
        """The FHIR message Bundle partners and the AsyncAPI document describe."""
        header_id = resource_id("message-header", self.event_id)
        extensions: list[dict[str, Any]] = [
            {"url": EXT_OCCURRED_AT, "valueDateTime": _iso(self.occurred_at)},
            {
                "url": EXT_SOURCE_RECORD,
                "valueIdentifier": {
                    "system": self.source_system,
                    "value": self.source_record_id,
                    "assigner": {"display": self.record_version},
                },
            },
            {"url": EXT_TRACE_ID, "valueString": self.trace_id},
        ]
        extensions += [
            {"url": EXT_SUBJECT, "valueIdentifier": {"system": s.system, "value": s.value}}
            for s in self.subjects
        ]
        if self.retracts:
            extensions.append({"url": EXT_RETRACTS, "valueString": self.retracts})
        header: dict[str, Any] = {
            "resourceType": "MessageHeader",
            "id": header_id,
            "extension": extensions,
            "eventCoding": {
                "system": CODE_SYSTEM_URL,
                "code": self.event_type.value,
                "display": definition(self.event_type).display,
            },
            "source": {"name": self.source_partner, "endpoint": f"urn:hubnet:partner:{self.source_partner}"},
        }
        if self.focus:
            header["focus"] = [{"reference": self.focus}]
        return {
            "resourceType": "Bundle",
            "id": self.event_id,
            "meta": {
                "versionId": self.schema_version,
                "security": [{"system": CONFIDENTIALITY_SYSTEM, "code": self.sensitivity.value}],
            },
            "identifier": {"system": EVENT_ID_SYSTEM, "value": self.event_id},
            "type": "message",
            "timestamp": _iso(self.ingested_at),
            "entry": [{"fullUrl": f"urn:uuid:{header_id}", "resource": header}]
            + [{"fullUrl": e.full_url, "resource": e.resource} for e in self.entries],
        }

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_bundle())

    @classmethod
    def from_bundle(cls, bundle: dict[str, Any]) -> HubEvent:
        """Inverse of `to_bundle`; raises `ValueError` naming what is missing."""
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "message":
            raise ValueError("not a FHIR message Bundle")
        entries = bundle.get("entry") or []
        if not entries or entries[0].get("resource", {}).get("resourceType") != "MessageHeader":
            raise ValueError("Bundle.entry[0] must be the MessageHeader")
        header = entries[0]["resource"]
        ext: dict[str, list[dict[str, Any]]] = {}
        for item in header.get("extension", []):
            ext.setdefault(item["url"], []).append(item)
        record = _one(ext, EXT_SOURCE_RECORD)["valueIdentifier"]
        security = bundle.get("meta", {}).get("security") or [{"code": Sensitivity.NORMAL.value}]
        retracts = ext.get(EXT_RETRACTS)
        focus = header.get("focus")
        return cls(
            event_id=bundle["id"],
            event_type=EventType(header["eventCoding"]["code"]),
            source_partner=header["source"]["name"],
            source_system=record["system"],
            source_record_id=record["value"],
            record_version=record["assigner"]["display"],
            occurred_at=datetime.fromisoformat(_one(ext, EXT_OCCURRED_AT)["valueDateTime"]),
            ingested_at=datetime.fromisoformat(bundle["timestamp"]),
            subjects=tuple(Identifier(**e["valueIdentifier"]) for e in ext.get(EXT_SUBJECT, [])),
            sensitivity=Sensitivity(security[0]["code"]),
            trace_id=_one(ext, EXT_TRACE_ID)["valueString"],
            schema_version=bundle.get("meta", {}).get("versionId", SCHEMA_VERSION),
            retracts=retracts[0]["valueString"] if retracts else None,
            focus=focus[0]["reference"] if focus else None,
            entries=tuple(Entry(full_url=e["fullUrl"], resource=e["resource"]) for e in entries[1:]),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> HubEvent:
        return cls.from_bundle(orjson.loads(data))


def version_order(version: str) -> tuple[int, int, str]:
    """Sort key for record versions, so a late older update never overwrites a newer one:
    numbers compare as numbers, anything else (ISO timestamps) as text, numbers first."""
    return (0, int(version), "") if version.isascii() and version.isdigit() else (1, 0, version)


def _one(ext: dict[str, list[dict[str, Any]]], url: str) -> dict[str, Any]:
    try:
        return ext[url][0]
    except KeyError:
        raise ValueError(f"MessageHeader.extension '{url}' is missing") from None


def _iso(moment: datetime) -> str:
    return moment.isoformat()
