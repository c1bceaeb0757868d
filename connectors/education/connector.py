"""The education formats as hubnet connectors: thin, the work is in the modules beside this one.

`ctf`: a DfE Common Transfer File, one record per pupil (a stand-alone CTF with the header and that
pupil, so a dead-lettered pupil replays alone). `attendance-csv`: the school attendance return of
docs/connectors/native-formats.md, one record per row.
"""

from __future__ import annotations

from collections.abc import Iterator

from connectors.base import Connector, Record, SourceContext
from connectors.common.csv_records import read_row, split_csv
from connectors.education.attendance import REQUIRED_COLUMNS, attendance_row_events
from connectors.education.ctf_map import ctf_events
from connectors.education.ctf_read import read_record, split_ctf
from schemas.envelope import HubEvent


class CtfConnector(Connector):
    """DfE Common Transfer File (CTF 2x XML) -> Patient, school EpisodeOfCare, SEN Flag and
    Conditions, attendance Observations, persistent-absence Flags, exclusion Observations."""

    name = "ctf"
    title = "DfE Common Transfer File (XML)"
    media_types = ("application/xml", "text/xml")

    def split(self, data: bytes) -> Iterator[Record]:
        for raw, path in split_ctf(data):
            yield Record(raw=raw, ref=path)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        header, pupil = read_record(record.raw, record.ref)
        return ctf_events(header, pupil, ctx)


class AttendanceCsvConnector(Connector):
    """School attendance return (CSV, one row per pupil per term) -> attendance Observation, and a
    persistent-absence Flag when the pupil missed 10% or more of the possible sessions."""

    name = "attendance-csv"
    title = "School attendance return (CSV)"
    media_types = ("text/csv",)

    def split(self, data: bytes) -> Iterator[Record]:
        return split_csv(data, required=REQUIRED_COLUMNS)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        return attendance_row_events(read_row(record, required=REQUIRED_COLUMNS), ctx)
