"""The `bloodspot-csv` connector: newborn blood spot screening laboratory results, one card per row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from connectors.base import Connector, Record, SourceContext
from connectors.bloodspot_csv.record import REQUIRED_COLUMNS, read_card
from connectors.bloodspot_csv.resources import card_events
from connectors.common.csv_records import read_row, split_csv
from schemas.envelope import HubEvent


class BloodspotCsvConnector(Connector):
    """Rows map on their own: a bad row is rejected with its line and column, the rest go on.

    Delivery: pure and deterministic; `record_id` and `record_version` decide the event id."""

    name: ClassVar[str] = "bloodspot-csv"
    title: ClassVar[str] = "Newborn blood spot screening laboratory results (CSV, NBS programme status codes)"
    media_types: ClassVar[tuple[str, ...]] = ("text/csv",)

    def split(self, data: bytes) -> Iterator[Record]:
        return split_csv(data, required=REQUIRED_COLUMNS)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        row = read_row(record, required=REQUIRED_COLUMNS)
        return card_events(read_card(row, ctx.partner), ctx, row.get("record_version"))
