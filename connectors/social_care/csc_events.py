"""`csc-events`: one case event row (CSV or JSON) to hub events, as docs/connectors/native-formats.md
defines the columns. The mapping table is in docs/connectors/csc-events.md.

Each row is its own source record: a `*-start` row and its `*-end` row are two timeline events.
`purge=true` (the DfE children's social care API's deletion flag) turns the row into a retraction;
a retracted case closure also retracts the step-down referral it may have made.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypedDict

from connectors.base import Record, SourceContext
from connectors.common.csv_records import CsvRow
from connectors.common.demographics import checked_birth_date, normal_postcode
from connectors.common.problems import Findings
from connectors.social_care import resources
from connectors.social_care.codes import (
    ABUSE_CATEGORIES,
    ABUSE_CATEGORY_SYSTEM,
    ABUSE_WORDS,
    ASSESSMENT_OUTCOME_SYSTEM,
    ASSESSMENT_OUTCOMES,
    CLOSURE_REASON_SYSTEM,
    CLOSURE_REASONS,
    LEGAL_STATUS_SYSTEM,
    LEGAL_STATUSES,
    PLACEMENT_SYSTEM,
    PLACEMENTS,
    PRIMARY_NEED_SYSTEM,
    PRIMARY_NEEDS,
    REFERRAL_SOURCE_SYSTEM,
    REFERRAL_SOURCES,
    STEP_DOWN,
    Code,
    checked_code,
    coding,
)
from connectors.social_care.csc_rows import read_record
from connectors.social_care.events import STEP_DOWN_SUFFIX, ChildEvents
from connectors.social_care.identity import family_identifier, make_child
from connectors.social_care.timing import check_not_future
from schemas.envelope import HubEvent
from schemas.event_types import EventType
from schemas.identifiers import local_system

SEXES = ("male", "female", "other", "unknown")
EPISODES = ("cin-plan", "cp-plan", "lac", "missing", "early-help", "assessment")
EVENT_TYPES = (
    "contact",
    "referral",
    *(f"{kind}-{edge}" for kind in EPISODES for edge in ("start", "end")),
    "case-closure",
)
_TRUE, _FALSE = ("true", "1", "yes", "y"), ("false", "0", "no", "n")


def source_system(partner: str) -> str:
    """The record-id namespace of one authority's case events."""
    return local_system(partner, "csc-event")


def map_csc_record(record: Record, ctx: SourceContext) -> list[HubEvent]:
    """Hub events of one row, or `MappingError` naming the line and column (or JSON path) of every
    problem. The row is read whole: the child's cells and the event's date are checked even when
    an id is missing, the event kind's own cells once the ids are read; nothing is returned from a
    row with any problem."""
    row = read_record(record)
    found = Findings()
    record_id = found.take(row.require, "record_id")
    kind = found.take(_kind, row)
    purge = found.take(row.choice, "purge", (*_TRUE, *_FALSE), default="false") in _TRUE
    version = found.take(row.record_version)
    person_id = found.take(row.require, "person_id")
    person = _child_cells(row, ctx, purge, found)
    day = found.take(row.as_date, "event_date")
    if not purge:
        _check_day(row, day, person.get("birth_date"), ctx, found)
    if record_id is None or version is None or person_id is None:
        found.check()  # a missing id was noted: no event can be named without it
    child = make_child(ctx.partner, str(person_id), source="csc-events", **person)
    family = family_identifier(ctx.partner, row.get("family_id"))
    events = ChildEvents.start(ctx, source_system(ctx.partner), str(version), child, family)
    if purge:
        found.check()
        when = day or ctx.received_at
        retracted = [events.retraction(str(record_id), when)]
        if kind == "case-closure":
            retracted.append(events.retraction(f"{record_id}{STEP_DOWN_SUFFIX}", when))
        return retracted
    mapped = None
    if kind is not None and day is not None:
        mapper = _MAPPERS[kind.rsplit("-", 1)[0] if kind.endswith(("-start", "-end")) else kind]
        mapped = found.take(mapper, row, events, str(record_id), day, kind.endswith("-end"))
    found.check()
    return mapped or []


def _check_day(row: CsvRow, day: date | None, born: object, ctx: SourceContext, found: Findings) -> None:
    """The event date: given, not in the future, not before the child's birth."""
    if day is None and row.get("event_date") is None:
        found.note(row.empty("event_date"))
    found.take(check_not_future, day, ctx.received_at.date(), row.where("event_date"))
    if isinstance(born, date) and day is not None:
        found.take(checked_birth_date, born, row.where("birth_date"), day, "the event date")


def _kind(row: CsvRow) -> str:
    kind = row.choice("event_type", EVENT_TYPES)
    if kind is None:
        raise row.empty("event_type")
    return kind


def _child_cells(row: CsvRow, ctx: SourceContext, purge: bool, found: Findings) -> dict[str, Any]:
    """The child's cells as `make_child` takes them; names are required except on a purge row,
    which only needs to say whose record. A cell with a problem is noted in `found` and left out."""
    given = row.get("given_name")
    family = row.get("family_name")
    if not purge:
        given = found.take(row.require, "given_name")
        family = found.take(row.require, "family_name")
    born = found.take(row.as_date, "birth_date")
    if born is not None:
        arrived = ctx.received_at.date()
        born = found.take(
            checked_birth_date, born, row.where("birth_date"), arrived, "the date the file arrived"
        )
    postcode = row.get("postcode")
    return {
        "nhs_number": row.get("nhs_number"),
        "upn": row.get("upn"),
        "given": tuple(given.split()) if given else (),
        "family": family,
        "birth_date": born,
        "gender": found.take(row.choice, "sex", SEXES),
        "postcode": normal_postcode(postcode) if postcode else None,
    }


def _reasons(row: CsvRow) -> tuple[list[dict[str, object]], bool]:
    """The reason cell: a CIN primary need code (N0..N9) as a coding, else free text."""
    text = row.get("reason")
    if text is None:
        return [], False
    if len(text) == 2 and text.upper().startswith("N") and text[1].isdigit():
        code = checked_code(text, PRIMARY_NEEDS, row.where("reason"))
        return [resources.codeable(PRIMARY_NEED_SYSTEM, code, PRIMARY_NEEDS)], PRIMARY_NEEDS[code].restricted
    return [{"text": text}], False


def _code(row: CsvRow, column: str, table: dict[str, Code]) -> str | None:
    """An optional cell holding a DfE code, checked against its table."""
    value = row.get(column)
    return None if value is None else checked_code(value, table, row.where(column))


class Span(TypedDict, total=False):
    """Keyword arguments `start` / `end` of the resource builders."""

    start: date
    end: date


def _span(day: date, end: bool) -> Span:
    """The one date a `*-start` or `*-end` row gives, as the start or end of a period."""
    return Span(end=day) if end else Span(start=day)


Mapper = Callable[[CsvRow, ChildEvents, str, date, bool], list[HubEvent]]


def _contact(row: CsvRow, events: ChildEvents, record_id: str, day: date, _end: bool) -> list[HubEvent]:
    reasons, restricted = _reasons(row)
    rid = events.resource_id("Encounter", record_id)
    encounter = resources.contact(rid, events.patient_reference, day, reasons)
    return [events.event(EventType.SOCIAL_CARE_CONTACT, record_id, day, [encounter], restricted)]


def _referral(row: CsvRow, events: ChildEvents, record_id: str, day: date, _end: bool) -> list[HubEvent]:
    found = Findings()
    reasons, restricted = found.take(_reasons, row) or ([], False)
    source = found.take(_code, row, "referral_source", REFERRAL_SOURCES)
    found.check()
    request = resources.service_request(
        events.resource_id("ServiceRequest", record_id),
        events.patient_reference,
        "referral",
        day,
        active=True,
        reasons=reasons,
        source=coding(REFERRAL_SOURCE_SYSTEM, source, REFERRAL_SOURCES) if source else None,
    )
    return [events.event(EventType.SOCIAL_CARE_REFERRAL, record_id, day, [request], restricted)]


def _assessment(row: CsvRow, events: ChildEvents, record_id: str, day: date, end: bool) -> list[HubEvent]:
    value = row.get("assessment_outcome") if end else None
    found = Findings()
    where = row.where("assessment_outcome")
    outcome = found.take(checked_code, value, ASSESSMENT_OUTCOMES, where) if value else None
    reasons, restricted = found.take(_reasons, row) or ([], False)
    found.check()
    assessment = resources.procedure(
        events.resource_id("Procedure", record_id),
        events.patient_reference,
        "assessment",
        **_span(day, end),
        outcome=resources.codeable(ASSESSMENT_OUTCOME_SYSTEM, outcome, ASSESSMENT_OUTCOMES)
        if outcome
        else None,
        reasons=reasons,
    )
    restricted = restricted or (outcome is not None and ASSESSMENT_OUTCOMES[outcome].restricted)
    return [events.event(EventType.SOCIAL_CARE_ASSESSMENT, record_id, day, [assessment], restricted)]


def _cin_plan(row: CsvRow, events: ChildEvents, record_id: str, day: date, end: bool) -> list[HubEvent]:
    span = _span(day, end)
    plan = resources.care_plan(
        events.resource_id("CarePlan", record_id), events.patient_reference, "cin-plan", **span
    )
    return [events.event(EventType.CARE_EPISODE, record_id, day, [plan])]


def _cp_plan(row: CsvRow, events: ChildEvents, record_id: str, day: date, end: bool) -> list[HubEvent]:
    """A child protection plan, plus the alert hub staff see while it is active (restricted)."""
    span = _span(day, end)
    word = row.choice("cp_category", tuple(ABUSE_WORDS))
    category = (
        [resources.codeable(ABUSE_CATEGORY_SYSTEM, ABUSE_WORDS[word], ABUSE_CATEGORIES)] if word else []
    )
    who = events.patient_reference
    plan = resources.care_plan(
        events.resource_id("CarePlan", record_id), who, "cp-plan", **span, extra=category
    )
    alert = resources.flag(events.resource_id("Flag", record_id), who, "cp-plan", **span, detail=category)
    return [events.event(EventType.CARE_EPISODE, record_id, day, [plan, alert], restricted=True)]


def _looked_after(row: CsvRow, events: ChildEvents, record_id: str, day: date, end: bool) -> list[HubEvent]:
    span = _span(day, end)
    found = Findings()
    legal = found.take(_code, row, "legal_status", LEGAL_STATUSES)
    place = found.take(_code, row, "placement_type", PLACEMENTS)
    found.check()
    extra = [resources.codeable(LEGAL_STATUS_SYSTEM, legal, LEGAL_STATUSES)] if legal else []
    extra += [resources.codeable(PLACEMENT_SYSTEM, place, PLACEMENTS)] if place else []
    care = resources.episode(
        events.resource_id("EpisodeOfCare", record_id),
        events.patient_reference,
        "looked-after",
        **span,
        extra=extra,
    )
    return [events.event(EventType.CARE_EPISODE, record_id, day, [care], restricted=True)]


def _missing(row: CsvRow, events: ChildEvents, record_id: str, day: date, end: bool) -> list[HubEvent]:
    """A missing episode is urgent for every partner who may see the child: an urgent Flag."""
    span = _span(day, end)
    alert = resources.flag(
        events.resource_id("Flag", record_id), events.patient_reference, "missing", **span, urgent=True
    )
    return [events.event(EventType.FLAG_RAISED, record_id, day, [alert], restricted=True)]


def _early_help(row: CsvRow, events: ChildEvents, record_id: str, day: date, end: bool) -> list[HubEvent]:
    span = _span(day, end)
    care = resources.episode(
        events.resource_id("EpisodeOfCare", record_id), events.patient_reference, "early-help", **span
    )
    return [events.event(EventType.CARE_EPISODE, record_id, day, [care])]


def _closure(row: CsvRow, events: ChildEvents, record_id: str, day: date, _end: bool) -> list[HubEvent]:
    """Case closure; reason RC9 (referred to early help) also makes a hub referral (step-down)."""
    reason = _code(row, "closure_reason", CLOSURE_REASONS)
    extra = [resources.codeable(CLOSURE_REASON_SYSTEM, reason, CLOSURE_REASONS)] if reason else []
    case = resources.episode(
        events.resource_id("EpisodeOfCare", record_id),
        events.patient_reference,
        "cin-case",
        end=day,
        extra=extra,
    )
    closed = [events.event(EventType.CARE_EPISODE, record_id, day, [case])]
    if reason == STEP_DOWN:
        closed.append(events.step_down(record_id, day, extra))
    return closed


_MAPPERS: dict[str, Mapper] = {
    "contact": _contact,
    "referral": _referral,
    "assessment": _assessment,
    "cin-plan": _cin_plan,
    "cp-plan": _cp_plan,
    "lac": _looked_after,
    "missing": _missing,
    "early-help": _early_help,
    "case-closure": _closure,
}
