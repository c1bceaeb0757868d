"""The `fhir` connector: FHIR R4 / UK Core resources and Bundles, JSON or XML, to hub events.

Thin on purpose: splitting lives in `records`, mapping in `mapping`, event codes in `classify`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from connectors.base import Connector, Record, SourceContext
from connectors.fhir.mapping import map_fhir_record
from connectors.fhir.records import split_fhir
from schemas.envelope import HubEvent


class FhirConnector(Connector):
    """FHIR R4 (UK Core) inbound: one hub event per resource about a person.

    Delivery: pure and deterministic; resending the same resource version gives the same event id.
    """

    name: ClassVar[str] = "fhir"
    title: ClassVar[str] = "FHIR R4 / UK Core resources and Bundles (JSON or XML)"
    media_types: ClassVar[tuple[str, ...]] = (
        "application/fhir+json",
        "application/fhir+xml",
        "application/json",
        "application/xml",
    )

    def split(self, data: bytes) -> Iterator[Record]:
        return split_fhir(data)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        return map_fhir_record(record, ctx)
