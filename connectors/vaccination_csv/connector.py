"""The `vaccination-csv` connector: the NHS vaccination record batch file, one record per row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from connectors.base import Connector, Record, SourceContext
from connectors.common.csv_records import read_row, split_csv
from connectors.vaccination_csv.layout import COLUMNS, ENCODINGS, delimiter_of, file_stamp
from connectors.vaccination_csv.record import read_vaccination
from connectors.vaccination_csv.resources import vaccination_events
from schemas.envelope import HubEvent


class VaccinationCsvConnector(Connector):
    """Rows map on their own: a bad row is rejected with its line and column, the rest go on.

    Delivery: pure and deterministic; the file's name (its time) and the row's action decide the
    record version, so a resent file gives the same event ids."""

    name: ClassVar[str] = "vaccination-csv"
    title: ClassVar[str] = "NHS vaccination record batch file (Immunisation API batch CSV)"
    media_types: ClassVar[tuple[str, ...]] = ("text/csv",)

    def split(self, data: bytes) -> Iterator[Record]:
        return split_csv(data, required=COLUMNS, delimiter=delimiter_of(data), encodings=ENCODINGS)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        row = read_row(record, required=COLUMNS, delimiter=delimiter_of(record.raw), encodings=ENCODINGS)
        return vaccination_events(read_vaccination(row, ctx.partner), ctx, file_stamp(ctx.source_name))
