"""The children's social care connectors: thin classes naming each format; mapping lives beside them.

Delivery: pure and deterministic (same bytes and context give the same event ids); transports
retry freely, downstream writes are idempotent on the event id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from connectors.base import Connector, Record, SourceContext
from connectors.social_care.cin_census import map_census_record, split_census
from connectors.social_care.csc_events import map_csc_record
from connectors.social_care.csc_rows import split_records
from connectors.social_care.ssda903 import map_903_record, split_903
from schemas.envelope import HubEvent


class CscEventsConnector(Connector):
    """Case events exported by case management systems (Liquidlogic, Mosaic, Eclipse), CSV or JSON."""

    name: ClassVar[str] = "csc-events"
    title: ClassVar[str] = "Children's social care case events (CSV or JSON)"
    media_types: ClassVar[tuple[str, ...]] = ("text/csv", "application/json")

    def split(self, data: bytes) -> Iterator[Record]:
        return split_records(data)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        return map_csc_record(record, ctx)


class CinCensusConnector(Connector):
    """The DfE Children in Need census XML, 2021 to 2024 schema versions."""

    name: ClassVar[str] = "cin-census"
    title: ClassVar[str] = "DfE Children in Need census (XML)"
    media_types: ClassVar[tuple[str, ...]] = ("application/xml", "text/xml")
    not_checked: ClassVar[str] = (
        "hubnet does not apply the DfE CIN census validation rules between episodes or between "
        "children (overlapping or several open episodes, duplicate child ids), the rules tied to the "
        "census period, the ChildCharacteristics rules, the assessment factor code list, or the "
        "conditional-element rules; an invalid UPN is dropped, not refused. Run the DfE validator "
        "before the return (docs/connectors/cin-census.md)"
    )

    def split(self, data: bytes) -> Iterator[Record]:
        return split_census(data)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        return map_census_record(record, ctx)


class Ssda903Connector(Connector):
    """SSDA903 looked-after children tables (header, episodes, missing), one CSV table per file."""

    name: ClassVar[str] = "ssda903"
    title: ClassVar[str] = "DfE SSDA903 looked-after children return (CSV tables)"
    media_types: ClassVar[tuple[str, ...]] = ("text/csv",)
    not_checked: ClassVar[str] = (
        "hubnet checks each row on its own: the DfE SSDA903 rules between rows and tables "
        "(episode sequences and continuity, header against episodes, the collection year) are not "
        "applied. Run the DfE validator before the return (docs/connectors/ssda903.md)"
    )

    def split(self, data: bytes) -> Iterator[Record]:
        return split_903(data)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        return map_903_record(record, ctx)
