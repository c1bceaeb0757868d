"""`vcs-json` and `vcs-csv`: what a charity did with a family, as hub events.

Two wire forms of one contract (docs/connectors/native-formats.md): they share `read_activity`
and `activity_events`, and differ only in how a batch is split and where a field is read.
Delivery: pure and deterministic, like every connector (same bytes -> same event ids).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from typing import ClassVar

from connectors.base import Connector, Record, SourceContext
from connectors.common.csv_records import read_row, split_csv
from connectors.vcs.activity import FIELDS, Fields, read_activity
from connectors.vcs.events import activity_events
from connectors.vcs.json_body import JsonFields, split_json
from schemas.envelope import HubEvent

CSV_REQUIRED = tuple(name for name in FIELDS if name not in ("record_version", "service_name", "notes"))
"""Columns the template header must have (cells may be empty): a misspelt identity column would
otherwise be ignored and the person lost. `record_version`, `service_name`, `notes` are optional."""


class _VcsConnector(Connector):
    """Shared mapping of both wire forms; subclasses say how to split and read fields."""

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        activity = read_activity(self.fields(record), ctx.partner, ctx.received_at.date())
        return activity_events(activity, ctx)

    @abstractmethod
    def fields(self, record: Record) -> Fields:
        """Called by `map_record`: the record's fields with their partner-facing locations."""


class VcsJsonConnector(_VcsConnector):
    """Webhook body: one activity object or an array of them."""

    name: ClassVar[str] = "vcs-json"
    title: ClassVar[str] = "Voluntary and community sector activity (JSON webhook)"
    media_types: ClassVar[tuple[str, ...]] = ("application/json",)

    def split(self, data: bytes) -> Iterator[Record]:
        return split_json(data)

    def fields(self, record: Record) -> Fields:
        return JsonFields(record)


class VcsCsvConnector(_VcsConnector):
    """The CSV template a small charity fills in, one activity per row."""

    name: ClassVar[str] = "vcs-csv"
    title: ClassVar[str] = "Voluntary and community sector activity (CSV template)"
    media_types: ClassVar[tuple[str, ...]] = ("text/csv",)

    def split(self, data: bytes) -> Iterator[Record]:
        return split_csv(data, required=CSV_REQUIRED)

    def fields(self, record: Record) -> Fields:
        return read_row(record, required=CSV_REQUIRED)
