"""`ssda903`: the DfE SSDA903 looked-after children return, one CSV table per file, to hub events.

The table is told apart by its header columns (the DfE column names; case and order free):

| table | told by | each row becomes | hub event code |
|---|---|---|---|
| header | ETHNIC | the child's Patient (local id, UPN, sex, birth date) | person-registered |
| episodes | DECOM | EpisodeOfCare `looked-after` (legal status, placement, reasons) | care-episode |
| missing | MIS_START | Flag `missing`, priority urgent | flag-raised |

Every row is about a looked-after child, so every event is restricted. Rows of the episodes and
missing tables name the child by `CHILD` only; their events carry the local person id as subject,
and identity resolution joins them to the header row's UPN. The other 903 tables (reviews, UASC,
OC2, OC3, AD1, placed for adoption, previous permanence, social worker episodes) add nothing to a
family timeline yet: the file is rejected whole, naming the table, so the partner knows it was not
taken. The XML form of the return is refused whole ("XML return not supported; send the CSV
tables"). An episode row with REC but no DEC is refused (DfE rule 148: both or neither), never
shown as an open episode. SSDA903 rows carry no version; the version is when hubnet received the
file, so a later return supersedes an earlier one record by record.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, cast

from connectors.base import Record, SourceContext
from connectors.common.csv_records import CsvRow, check_columns, read_row, split_csv
from connectors.common.fhir_time import utc_stamp
from connectors.common.problems import Findings
from connectors.common.values import BOM
from connectors.social_care import resources
from connectors.social_care.codes import (
    EPISODE_END_REASONS,
    EPISODE_END_SYSTEM,
    EPISODE_REASON_SYSTEM,
    LEGAL_STATUS_SYSTEM,
    LEGAL_STATUSES,
    MISSING_SYSTEM,
    MISSING_TYPES,
    NEW_EPISODE_REASONS,
    PLACEMENT_SYSTEM,
    PLACEMENTS,
    PRIMARY_NEED_SYSTEM,
    PRIMARY_NEEDS,
    Code,
    checked_code,
)
from connectors.social_care.events import ChildEvents
from connectors.social_care.identity import make_child
from connectors.social_care.timing import check_not_future, check_order, uk_date
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import local_system

MAPPED = {"ethnic": "header", "decom": "episodes", "mis_start": "missing"}
"""A column only that table has -> the table's name."""
NOT_MAPPED = {
    "review": "reviews",
    "duc": "UASC",
    "sdq_score": "OC2",
    "in_touch": "OC3",
    "date_int": "AD1",
    "date_placed": "placed for adoption",
    "prev_perm": "previous permanence",
    "sw_id": "social worker episodes",
    "dolo_start": "deprivation of liberty orders",
}
REQUIRED = {
    "header": ("child", "sex", "dob"),
    "episodes": ("child", "decom", "rne", "ls"),
    "missing": ("child", "missing", "mis_start"),
}
SEXES: dict[str, Code] = {"1": Code("male"), "2": Code("female")}
"""903 SEX codes; the display is the FHIR gender."""


def source_system(partner: str) -> str:
    """The record-id namespace of one authority's SSDA903 returns."""
    return local_system(partner, "ssda903")


def table_of(data: bytes) -> str:
    """Which mapped table a file (or one replayed record) holds, from its header line."""
    if data.removeprefix(BOM).lstrip().startswith(b"<"):
        raise MappingError(
            "XML return not supported; send the CSV tables",
            "line 1",
            hint="export the header, episodes and missing tables as CSV files with the DfE column names",
        )
    lines = data.removeprefix(BOM).splitlines()  # CR, LF or CRLF: every export tool's line ends
    first = lines[0].decode("utf-8", errors="replace") if lines else ""
    columns = {cell.strip().lower() for cell in next(csv.reader(io.StringIO(first)), [])}
    for column, table in MAPPED.items():
        if column in columns:
            check_columns(columns, REQUIRED[table])
            return table
    for column, table in NOT_MAPPED.items():
        if column in columns:
            raise MappingError(
                f"this is the SSDA903 {table} table, which hubnet does not take",
                "line 1",
                hint="send the header, episodes and missing tables; the others stay with the DfE return",
            )
    raise MappingError(
        "the header line is not that of an SSDA903 header, episodes or missing table",
        "line 1",
        hint="use the DfE column names, e.g. CHILD,DECOM,RNE,LS,CIN,PLACE,... for episodes",
    )


def split_903(data: bytes) -> Iterator[Record]:
    """One record per row, after checking the table is one hubnet maps."""
    table_of(data)
    return split_csv(data)


def map_903_record(record: Record, ctx: SourceContext) -> list[HubEvent]:
    """Hub events of one row, or `MappingError` naming the line and column of every problem."""
    table = table_of(record.raw)
    row = read_row(record)
    received = ctx.received_at.date()
    found = Findings()
    child_id = found.take(row.require, "child")
    born = found.take(_date, row, "dob", received)
    sex = found.take(_code, row, "sex", SEXES) if row.get("sex") else None
    period = found.take(_PERIODS[table], row, born, received) if table in _PERIODS else None
    found.check()
    child = make_child(
        ctx.partner,
        str(child_id),
        source="ssda903",
        upn=row.get("upn"),
        birth_date=born,
        gender=SEXES[sex].display if sex else None,
    )
    events = ChildEvents.start(ctx, source_system(ctx.partner), utc_stamp(ctx.received_at), child)
    if period is None:
        return [events.event(EventType.PERSON_REGISTERED, f"{child_id}/header", ctx.received_at, [], True)]
    return [period(events, str(child_id))]


def _required_date(row: CsvRow, column: str, received: date) -> date:
    """A DD/MM/YYYY cell that must be filled and not in the future."""
    day = uk_date(row.require(column), row.where(column))
    check_not_future(day, received, row.where(column))
    return day


def _date(row: CsvRow, column: str, received: date) -> date | None:
    return None if row.get(column) is None else _required_date(row, column, received)


def _code(row: CsvRow, column: str, table: dict[str, Code]) -> str:
    """A required cell holding a DfE code, checked against its table."""
    return checked_code(row.require(column), table, row.where(column))


def _coded(row: CsvRow, column: str, system: str, table: dict[str, Code]) -> dict[str, Any]:
    return resources.codeable(system, _code(row, column, table), table)


Period = Callable[[ChildEvents, str], HubEvent]
"""A checked episodes or missing row, made into its child's event once the child is known."""


def _episode(row: CsvRow, born: date | None, received: date) -> Period:
    """A period of care with one legal status and one placement (a new row when either changes)."""
    found = Findings()
    start, end = _span(row, ("decom", "dec"), born, received, found)
    place_column = "pl" if "pl" in row.cells and "place" not in row.cells else "place"  # PL: older name
    coded = [
        (LEGAL_STATUS_SYSTEM, "ls", LEGAL_STATUSES),
        (PLACEMENT_SYSTEM, place_column, PLACEMENTS),
        (EPISODE_REASON_SYSTEM, "rne", NEW_EPISODE_REASONS),
    ]
    if row.get("cin"):
        coded.append((PRIMARY_NEED_SYSTEM, "cin", PRIMARY_NEEDS))
    if end is None and row.get("rec") and not row.get("dec"):
        found.note(
            MappingError(
                "REC (reason episode ceased) is given but DEC (date episode ceased) is empty, so hubnet "
                "cannot tell whether the episode is still open",
                row.where("dec"),
                hint="fill in DEC when the episode has ended, or leave REC blank while it is open; "
                "DfE SSDA903 rule 148: both coded or both blank",
            )
        )
    if row.get("dec"):
        coded.append((EPISODE_END_SYSTEM, "rec", EPISODE_END_REASONS))
    types = [found.take(_coded, row, column, system, table) for system, column, table in coded]
    found.check()
    first = cast(date, start)

    def made(events: ChildEvents, child_id: str) -> HubEvent:
        record_id = f"{child_id}/episode/{first.isoformat()}"
        care = resources.episode(
            events.resource_id("EpisodeOfCare", record_id),
            events.patient_reference,
            "looked-after",
            start=first,
            end=end,
            extra=[t for t in types if t is not None],
        )
        return events.event(EventType.CARE_EPISODE, record_id, first, [care], restricted=True)

    return made


def _missing(row: CsvRow, born: date | None, received: date) -> Period:
    """A missing or away-without-authorisation episode: an urgent alert while it lasts."""
    found = Findings()
    start, end = _span(row, ("mis_start", "mis_end"), born, received, found)
    kind = found.take(_coded, row, "missing", MISSING_SYSTEM, MISSING_TYPES)
    found.check()
    first = cast(date, start)

    def made(events: ChildEvents, child_id: str) -> HubEvent:
        record_id = f"{child_id}/missing/{first.isoformat()}"
        alert = resources.flag(
            events.resource_id("Flag", record_id),
            events.patient_reference,
            "missing",
            start=first,
            end=end,
            urgent=True,
            detail=[cast(dict[str, Any], kind)],
        )
        return events.event(EventType.FLAG_RAISED, record_id, first, [alert], restricted=True)

    return made


def _span(
    row: CsvRow, columns: tuple[str, str], born: date | None, received: date, found: Findings
) -> tuple[date | None, date | None]:
    """A period's start (required) and end, each in the past, the start not before birth and the
    end not before the start; each problem noted in `found`."""
    start = found.take(_required_date, row, columns[0], received)
    end = found.take(_date, row, columns[1], received)
    found.take(check_order, born, start, row.where(columns[0]))
    found.take(check_order, start, end, row.where(columns[1]))
    return start, end


_PERIODS: dict[str, Callable[[CsvRow, date | None, date], Period]] = {
    "episodes": _episode,
    "missing": _missing,
}
