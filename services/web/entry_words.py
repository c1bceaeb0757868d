"""The `entry_words(entry)` template function: an entry's words (services/timeline/entry_view.py)
for the page it is on, with the family's (or person's) members for "about whom" and the county's
reference data for organisation names.

Why a template function: the timeline macro is shared by the family and person pages, and each
page already has its `family` or `person` in context; the entry it is given is the one
TimelineAccess returned, already redacted for the reader.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from services.timeline.entry_view import EntryText, MemberFacts, NameOf, entry_text, known_name, when_text
from services.timeline.model import Family, Person, TimelineEntry


def members_of(family: Family | None, person: Person | None) -> dict[str, MemberFacts]:
    """Who the page knows, by person id: the family's members with their role, or the person."""
    known: dict[str, MemberFacts] = {}
    if isinstance(family, Family):
        for member in family.members:
            p = member.person
            known[p.person_id] = MemberFacts(p.name, member.role, p.birth_date)
    if isinstance(person, Person) and person.person_id not in known:
        known[person.person_id] = MemberFacts(person.name, "", person.birth_date)
    return known


@pass_context
def entry_words(context: Context, entry: TimelineEntry) -> EntryText:
    request: Any = context.get("request")
    name_of: NameOf | None = getattr(request.app.state, "organisation_names", None) if request else None
    return entry_text(entry, members_of(context.get("family"), context.get("person")), name_of)


def london(moment: datetime) -> str:
    """The `london` template filter: a hub timestamp in Europe/London words."""
    return when_text(moment.isoformat())


@pass_context
def place_name(context: Context, code: str) -> str:
    """The `place_name` and `organisation_name` template filters: an ONS area or organisation code
    (a partner's too) as its loaded name, else the code itself."""
    request: Any = context.get("request")
    name_of: NameOf | None = getattr(request.app.state, "organisation_names", None) if request else None
    return known_name(code, name_of) or code
