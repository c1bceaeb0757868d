"""The `hv-csv` connector: one health-visiting mandated review per CSV row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from connectors.base import Connector, Record, SourceContext
from connectors.common.csv_records import read_row, split_csv
from connectors.hv_csv.resources import review_event
from connectors.hv_csv.review import REQUIRED_COLUMNS, read_review
from schemas.envelope import HubEvent


class HvCsvConnector(Connector):
    """Rows map on their own: a bad row is rejected with its line and column, the rest go on."""

    name: ClassVar[str] = "hv-csv"
    title: ClassVar[str] = "Health-visiting mandated reviews (community health record CSV extract)"
    media_types: ClassVar[tuple[str, ...]] = ("text/csv",)

    def split(self, data: bytes) -> Iterator[Record]:
        return split_csv(data, required=REQUIRED_COLUMNS)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        return [review_event(read_review(read_row(record, required=REQUIRED_COLUMNS)), ctx)]
