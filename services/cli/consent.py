"""`hubnet consent record|withdraw|list`: a family's consent decisions recorded by hub staff.

Decisions reach the timeline and the referral gate through `fh.events` like any other (see
services/consent/staff.py); `list` shows the standing decisions the timeline store holds. Each
command acts as a named hub staff account (`--by`, services/cli/acting.py) under the rule the
staff UI applies (services/consent/recorders.py): a role that records consent, for a person (or
family) it may open on the timeline. A refusal is audited and says why; nothing is sent.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.cli.acting import acting_as
from services.cli.runtime import friendly_errors, start
from services.consent.recorders import person_refusal, role_refusal
from services.consent.staff import ConsentInputError, record_by_staff, staff_decision
from services.core.broker import require_bootstrap
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.gateway.database import Database
from services.gateway.partners import PartnerStore

app = typer.Typer(help="Record a family's consent decisions as hub staff (audited), and list them.")
out = Console()
NhsNumber = Annotated[str, typer.Option("--nhs-number", help="The child's or parent's NHS number.")]
About = Annotated[str, typer.Option("--about", help="The partner code whose sharing the decision is about.")]
By = Annotated[
    str,
    typer.Option(
        "--by",
        help="Your hub staff account (`hubnet users add`): a role that records consent, for a "
        "person in your hub area(s); audited.",
    ),
]
Note = Annotated[str | None, typer.Option("--note", help="How the family gave the decision.")]


def _record(nhs_number: str, about: str, by: str, note: str | None, *, permit: bool) -> None:
    settings = start()
    staff_decision(user=by, nhs_number=nhs_number, about=about, permit=permit)  # says what to fix first
    _check_partner(settings, about)
    action = "consent.record" if permit else "consent.withdraw"
    with acting_as(settings, by, action, None) as acting:
        acting.check(action, None, person_refusal(acting.access, acting.who, nhs_number))
    publisher = DurablePublisher(settings, require_bootstrap(settings)).start()
    try:
        event = record_by_staff(
            publisher, user=by, nhs_number=nhs_number, about=about, permit=permit, note=note
        )
        publisher.flush(30)
    finally:
        publisher.close()
    verb = "consent recorded" if permit else "withdrawal recorded"
    out.print(f"{verb} about {about} (event {event.event_id}); audited as {by}", highlight=False)


def _check_partner(settings: Settings, about: str) -> None:
    """The decision is about an active registered partner, as the staff UI's form offers them: a
    mistyped code would record a decision about nobody."""
    database = Database.at(settings)
    try:
        partner = PartnerStore(database).find(about)
    finally:
        database.close()
    if partner is None or not partner.active:
        raise ConsentInputError(
            f"'{about}' is not an active registered partner: `hubnet partners list` shows their codes"
        )


@app.command("record")
@friendly_errors
def record(nhs_number: NhsNumber, about: About, by: By, note: Note = None) -> None:
    """Record that the family consents to sharing with a partner (reverses a withdrawal)."""
    _record(nhs_number, about, by, note, permit=True)


@app.command("withdraw")
@friendly_errors
def withdraw(nhs_number: NhsNumber, about: About, by: By, note: Note = None) -> None:
    """Record that the family withdrew consent: the partner's entries are hidden, voluntary-sector
    referrals held."""
    _record(nhs_number, about, by, note, permit=False)


@app.command("list")
@friendly_errors
def list_decisions(family: Annotated[str, typer.Option("--family", help="Hub family id.")], by: By) -> None:
    """The family's standing decisions, per partner, with who recorded them and when received: for
    staff who record consent and may open the family (the consent form shows them the same)."""
    settings = start()
    with acting_as(settings, by, "consent.list", family) as acting:
        if refused := role_refusal(acting.who):
            acting.check("consent.list", family, refused)
        acting.access.family(acting.who, family)  # audited; one answer whether missing or not theirs
        standing = acting.access.store.standing_consents([family])
    table = Table("about", "decision", "recorded by", "authority", "received", "stated")
    for decision in standing:
        table.add_row(
            decision.about, "permit" if decision.permit else "withdrawn", decision.recorder or "unknown",
            decision.authority.value, decision.received_at.isoformat(),
            decision.stated_at.isoformat() if decision.stated_at else "",
        )  # fmt: skip
    out.print(table)
