"""The staff UI's consent form, pure: who in the family gave (or withdrew) consent, how, about which
partners, on what date; every field checked with a message that says what to fix.

The decision itself is recorded by the consent domain's staff path (services/consent/staff.py);
this module only turns the form into its inputs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from schemas.identifiers import NHS_NUMBER
from services.timeline.model import Family, Person

METHODS = {"in-person": "in person", "phone": "by phone", "written": "in writing"}


@dataclass(frozen=True)
class ConsentChoice:
    """A checked form: one decision per partner in `about`."""

    nhs_number: str
    given_by: str
    method: str
    about: tuple[str, ...]
    permit: bool
    stated_at: datetime

    def note(self) -> str:
        """How the family gave it, for people to read on the decision (no names: the member's role)."""
        verb = "given" if self.permit else "withdrawn"
        return f"{verb} {METHODS[self.method]} by the family's {self.given_by}"


def nhs_number_of(person: Person) -> str | None:
    prefix = f"{NHS_NUMBER}|"
    return next((t.removeprefix(prefix) for t in person.identifiers if t.startswith(prefix)), None)


def givers(family: Family) -> list[tuple[str, str, str]]:
    """(person id, name, role) of members who can give the decision: those with an NHS number,
    the consent domain's link to the family; carers first."""
    found = [(m.person.person_id, m.person.name, m.role) for m in family.members if nhs_number_of(m.person)]
    return sorted(found, key=lambda g: (g[2] != "carer", g[1]))


def check(
    form: dict[str, str | list[str]], family: Family, partners: Collection[str], today: date
) -> tuple[ConsentChoice | None, dict[str, str]]:
    """The choice, or the errors by field name (each says what to do)."""
    errors: dict[str, str] = {}
    members = {m.person.person_id: m for m in family.members}
    giver = members.get(str(form.get("given_by", "")))
    number = nhs_number_of(giver.person) if giver else None
    if giver is None or number is None:
        errors["given_by"] = "Select the family member who gave the decision"
    method = str(form.get("method", ""))
    if method not in METHODS:
        errors["method"] = "Select how the family gave it: in person, by phone or in writing"
    about = form.get("about", [])
    chosen = tuple(dict.fromkeys([about] if isinstance(about, str) else about))
    if not chosen or any(code not in partners for code in chosen):
        errors["about"] = "Select at least one partner the decision is about"
    decision = str(form.get("decision", ""))
    if decision not in ("permit", "withdraw"):
        errors["decision"] = "Select whether the family gives or withdraws consent"
    given_on = _date(str(form.get("given_on", "")), today, errors)
    if errors or giver is None or number is None or given_on is None:
        return None, errors
    stated = datetime.combine(given_on, time(0), UTC) if given_on < today else datetime.now(UTC)
    return ConsentChoice(number, giver.role, method, chosen, decision == "permit", stated), {}


def _date(text: str, today: date, errors: dict[str, str]) -> date | None:
    try:
        given = date.fromisoformat(text.strip())
    except ValueError:
        errors["given_on"] = "Enter the date the family gave it, as YYYY-MM-DD (for example 2026-03-02)"
        return None
    if given > today:
        errors["given_on"] = "The date the family gave it must be today or in the past"
        return None
    return given
