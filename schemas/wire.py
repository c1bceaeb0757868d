"""The envelope as partners see it on the wire, for the published JSON Schema.

`HubEvent` is what hubnet's code builds and reads; these models describe the same Bundle in FHIR's
own field names, so `schemas/json/hub-event-bundle.schema.json` documents exactly the bytes on
`fh.events` and `fh.linked`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.event_types import EventType


class _Fhir(BaseModel):
    model_config = ConfigDict(extra="allow")


class Coding(_Fhir):
    system: str
    code: str
    display: str | None = None


class Reference(_Fhir):
    reference: str


class Source(_Fhir):
    name: str = Field(description="Partner code (ODS code, LA code, URN or charity number).")
    endpoint: str


class EventCoding(Coding):
    code: EventType = Field(description="Hub event type (schemas/fhir/CodeSystem-hub-event-type.json).")


class MessageHeader(_Fhir):
    resourceType: Literal["MessageHeader"]  # noqa: N815 - FHIR's own field name
    id: str
    extension: list[dict[str, Any]] = Field(
        description="occurred-at, source-record, subject-identifier (repeating), trace-id, retracts-event."
    )
    eventCoding: EventCoding  # noqa: N815
    source: Source
    focus: list[Reference] | None = None


class HeaderEntry(_Fhir):
    fullUrl: str  # noqa: N815
    resource: MessageHeader


class ResourceEntry(_Fhir):
    fullUrl: str  # noqa: N815
    resource: dict[str, Any] = Field(description="A FHIR R4 resource, validated by the connector.")


class Meta(_Fhir):
    versionId: str = Field(description="Envelope schema version.")  # noqa: N815
    security: list[Coding] = Field(
        description="v3-Confidentiality: N normal, R restricted, V very restricted."
    )


class Identifier(_Fhir):
    system: str
    value: str


class HubEventBundle(_Fhir):
    """A hub event: FHIR R4 Bundle of type message; entry[0] is the MessageHeader."""

    resourceType: Literal["Bundle"]  # noqa: N815
    id: str = Field(description="Event id: UUIDv5 of source system, source record id and version.")
    meta: Meta
    identifier: Identifier
    type: Literal["message"]
    timestamp: str = Field(description="When hubnet ingested the event (ISO 8601).")
    entry: list[HeaderEntry | ResourceEntry] = Field(min_length=1)
