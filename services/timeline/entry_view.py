"""An entry as staff read it: title in words, who it is about, who recorded it, where, when, and its
key figures. Pure: an entry (already redacted for its reader) and what the page knows of the family
in, plain text out; the templates only lay it out.

Why here and not at projection: names come from reference data the county loads later
(services/reference), and the member's age depends on the family as the page shows it. Titles stay
derived from the redacted resources, so a withheld free text never reaches the page.

Dates are shown as the partner gave them: a date-only value stays a date ("20 December 2024"), a
time is shown in Europe/London ("2 May 2024 at 09:20"), never "00:00 UTC" for a date (a date-time
at exactly midnight in its own offset is a date a partner wrote as a date-time, and shows as a date).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.consent.model import STAFF_RECORDER
from services.timeline.entry_facts import Fact, Resource, facts, main_resource, text, title
from services.timeline.model import TimelineEntry
from services.timeline.titles import partner_label

LONDON = ZoneInfo("Europe/London")
STAFF_NAME = "Hub staff"
"""Who `hubnet-staff` records are by (consent recorded in the staff UI or with `hubnet consent`)."""
NameOf = Callable[[str], str | None]
"""An organisation code (ODS, URN, LA code, charity number) to its name, or None when unknown."""

_WHEN_FIELDS = (
    "occurrenceDateTime", "effectiveDateTime", "onsetDateTime", "authoredOn", "issued", "recorded",
    "dateTime", "date",
)  # fmt: skip
_PERIOD_FIELDS = ("period", "performedPeriod", "effectivePeriod")
_BY_FIELDS = ("requester", "performer", "serviceProvider", "managingOrganization", "author", "recorder")
"""Who recorded it: a request's requester (its performer is the service asked), else the performer."""


@dataclass(frozen=True)
class MemberFacts:
    """What the page knows of a family member, for "about whom"."""

    name: str
    relation: str
    birth_date: str = ""


@dataclass(frozen=True)
class EntryText:
    title: str
    when: str
    about: str
    recorded_by: str
    where: str
    facts: tuple[Fact, ...]


def entry_text(
    entry: TimelineEntry, members: Mapping[str, MemberFacts] | None = None, name_of: NameOf | None = None
) -> EntryText:
    """The words for one entry the reader may see (pass the redacted entry from TimelineAccess)."""
    resources = entry.resources
    main = main_resource(resources) or {}
    given = partner_when(main)
    return EntryText(
        title=title(
            entry.event_type, resources, lambda code: known_name(code, name_of) or partner_label(code)
        )
        or entry.title,
        when=when_text(given) if given else when_text(entry.occurred_at.isoformat()),
        about=about_text(entry, (members or {}).get(entry.person_id), given),
        recorded_by=recorded_by(main, resources, entry.partner, name_of or _unknown),
        where=where_text(main, resources, name_of or _unknown),
        facts=facts(entry.event_type, resources),
    )


def _unknown(_: str) -> str | None:
    return None


def partner_when(main: Resource) -> str:
    """The partner's own date or date-time text for what happened, else ""."""
    for field in _WHEN_FIELDS:
        if isinstance(main.get(field), str):
            return str(main[field])
    for field in _PERIOD_FIELDS:
        start = (main.get(field) or {}).get("start")
        if isinstance(start, str):
            return start
    return ""


def when_text(value: str) -> str:
    """A FHIR date or dateTime as words at its own precision; times in Europe/London."""
    if len(value) == 4:
        return value
    if len(value) == 7:
        return datetime.strptime(value, "%Y-%m").strftime("%B %Y")
    if len(value) == 10:
        return _day(date.fromisoformat(value))
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return _day(moment.date())  # midnight as sent: a date written as a date-time, not a time
    local = moment.astimezone(LONDON) if moment.tzinfo else moment
    return f"{_day(local.date())} at {local.strftime('%H:%M')}"


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def about_text(entry: TimelineEntry, member: MemberFacts | None, given: str) -> str:
    """ "Ava Smith (child, 2 years 3 months at the time)"; "" when the page knows no member."""
    if member is None:
        return ""
    details = [member.relation] if member.relation else []
    at = _date_of(given) or entry.occurred_at.date()
    if age := age_text(member.birth_date, at):
        details.append(f"{age} at the time")
    name = member.name or "Name not recorded"
    return f"{name} ({', '.join(details)})" if details else name


def _date_of(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None


def age_text(birth_date: str, at: date) -> str:
    """An age in the words health and school staff use: weeks under 3 months, then months under 2
    years, then years and months under 5, then years."""
    born = _date_of(birth_date)
    if born is None or at < born:
        return ""
    months = (at.year - born.year) * 12 + at.month - born.month - (at.day < born.day)
    if months < 3:
        weeks = (at - born).days // 7
        return f"{weeks} week{'s' * (weeks != 1)}"
    if months < 24:
        return f"{months} months"
    years, rest = divmod(months, 12)
    if years < 5 and rest:
        return f"{years} years {rest} month{'s' * (rest != 1)}"
    return f"{years} years"


def recorded_by(main: Resource, resources: Sequence[Resource], partner: str, name_of: NameOf) -> str:
    """The organisation (by name where known) and service that recorded the entry; with no
    organisation in the entry, the sending partner by its reference name, else its code in words."""
    organisation = ""
    for field in _BY_FIELDS:
        organisation = _organisation(main.get(field), resources, name_of)
        if organisation:
            break
    service = text(main.get("serviceType"))
    who = organisation or known_name(partner, name_of) or partner_label(partner)
    return f"{who} ({service})" if service and service.lower() not in who.lower() else who


def known_name(code: str, name_of: NameOf | None) -> str | None:
    """The reference data's name for an organisation or area code. A partner is registered by its
    organisation code in lower case (`r9w`), so the register's own spelling (`R9W`) is tried too.
    Hub staff's own records (`hubnet-staff`, no partner's code) are named as such."""
    if code == STAFF_RECORDER:
        return STAFF_NAME
    return (name_of(code) or name_of(code.upper())) if code and name_of else None


def where_text(main: Resource, resources: Sequence[Resource], name_of: NameOf) -> str:
    location = main.get("location")
    return _organisation(location, resources, name_of) if location else ""


def _organisation(value: Any, resources: Sequence[Resource], name_of: NameOf) -> str:
    """A reference's name: its Organization in the entry, the reference data's name for its
    identifier code, its display, and at last the code itself (an unknown code still shows)."""
    if isinstance(value, list):
        found = [_organisation(item, resources, name_of) for item in value]
        people = [item for item in value if _is_person(item)]
        return next((f for f, item in zip(found, value, strict=True) if f and item not in people), "")
    if not isinstance(value, dict):
        return ""
    inner = value.get("actor") or value.get("individual") or value.get("location") or value
    if not isinstance(inner, dict):
        return ""
    code = str((inner.get("identifier") or {}).get("value") or "")
    name, contained_code = _contained_name(inner.get("reference"), resources)
    code = code or contained_code
    known = name_of(code) if code else None
    return known or name or str(inner.get("display") or "") or code


def _is_person(item: Any) -> bool:
    actor = item.get("actor") if isinstance(item, dict) else None
    return isinstance(actor, dict) and actor.get("type") == "Practitioner"


def _contained_name(reference: Any, resources: Sequence[Resource]) -> tuple[str, str]:
    """(name, identifier code) of the Organization or Location a reference names inside the entry."""
    if not isinstance(reference, str):
        return "", ""
    wanted = reference.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    for resource in resources:
        if resource.get("id") == wanted:
            identifiers = resource.get("identifier") or [{}]
            return str(resource.get("name") or ""), str(identifiers[0].get("value") or "")
    return "", ""
