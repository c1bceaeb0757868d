"""`hubnet users add|list|demo|sign-out|unlock`: local hub staff accounts for the embedded default
(OIDC in production), and ending their sessions or lifting a sign-in lockout."""

from __future__ import annotations

import getpass
import time
from typing import Annotated

import typer
from rich.table import Table

from schemas.audit import AuditRecord
from services.cli.runtime import friendly_errors, start
from services.cli.tables import table_console
from services.timeline.policy import COUNTY_WIDE, GRANTS, Role
from services.timeline.users import UserStore
from services.web.signin import account_subject
from services.web.signin_store import SignInStore

app = typer.Typer(help="Hub staff accounts (local user store).", no_args_is_help=True)
out = table_console()
DEMO_PASSWORD = "hubnet-demo-password"  # noqa: S105 - documented demo accounts on the embedded default
DEMO_SERVICES: dict[Role, tuple[str, ...]] = {
    Role.HUB_PRACTITIONER: ("family-support", "parenting-programme", "send-family-support"),
    Role.HEALTH_VISITOR: ("infant-feeding", "talk-together"),
    Role.SOCIAL_WORKER: ("safeguarding-lead",),
    Role.VOLUNTARY_SECTOR_WORKER: ("food-bank", "money-advice", "perinatal-peer-support", "family-mentoring"),
}
"""Services of services/referrals/network.toml each demo account works for; the others (school
staff and nurse, hub manager, operations) act on no service's referrals."""


def _store() -> UserStore:
    return UserStore.from_settings(start())


def _sign_ins() -> SignInStore:
    """Session records and sign-in failures (the same `users` store every API replica reads)."""
    return SignInStore.from_settings(start())


@app.command("add")
@friendly_errors
def add(
    username: str,
    role: Annotated[Role, typer.Option(help="What the user does; decides what they may see.")],
    area: Annotated[
        list[str],
        typer.Option(
            help=f"Hub area id of the county pack (hub-areas.csv; the demo's are district codes, e.g. "
            f"E07000076), repeatable; {COUNTY_WIDE} = all."
        ),
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    service: Annotated[
        list[str] | None,
        typer.Option(
            help="Service the user works for (service id, e.g. family-support, or service@site), "
            "repeatable; referrals are acted on only by staff of the receiving service."
        ),
    ] = None,
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters."),
    ] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who adds it (default: your login name).")] = None,
) -> None:
    """Create or replace an account (the password is stored as a salted scrypt hash only). Replacing
    it ends the user's sessions (a new password or new grants must not ride on an old session), and
    that ending is audited as `staff.sign-out` by the administrator, as `hubnet users sign-out` is."""
    user = _store().add(username, password, role, area, name, services=service or ())
    for unknown in _unknown_services(user.services):
        out.print(
            f"[yellow]warning:[/] '{unknown}' is not a service (id or service@site) of the loaded county "
            "pack (its services.csv or its services_from directory); it gives no referral work until a "
            "pack version holds it",
            highlight=False,
        )
    services = ", ".join(user.services) or "none"
    out.print(
        f"{user.username}: {GRANTS[user.role].label}, areas {', '.join(user.areas)}, services {services}"
    )
    ended = _sign_ins().end_all(user.username, time.time())  # a new password: old sessions end
    if ended:
        why = f"{ended} session(s) ended: the account was replaced (hubnet users add)"
        _audit_sign_out(by, user.username, why)
        out.print(f"{ended} earlier session(s) of {user.username} ended")


@app.command("sign-out")
@friendly_errors
def sign_out(
    username: str,
    by: Annotated[
        str | None, typer.Option("--by", help="Who signs them out (default: your login name).")
    ] = None,
) -> None:
    """End every session of the user now, on every API replica (their next page asks them to sign in).
    Audited (`hubnet audit`) as `staff.sign-out` by the administrator, with how many ended."""
    ended = _sign_ins().end_all(username, time.time())
    _audit_sign_out(by, username, f"{ended} session(s) ended by an administrator (hubnet users sign-out)")
    out.print(f"{ended} session(s) of {username} ended")


def _audit_sign_out(by: str | None, username: str, reason: str) -> None:
    """An administrator ended `username`'s sessions: `staff.sign-out` under the administrator (`by`,
    default the login name), with `reason` saying how many and why (`hubnet audit` shows it)."""
    from services.timeline.audit import AuditTrail
    from services.timeline.audit_store import AuditStore

    audit = AuditStore.from_settings(start())
    try:
        AuditTrail(audit).write(
            AuditRecord(
                actor=by or getpass.getuser(), action="staff.sign-out", target=username, outcome="allowed",
                reason=reason,
            )
        )  # fmt: skip
    finally:
        audit.close()


@app.command("unlock")
@friendly_errors
def unlock(username: str) -> None:
    """Lift a sign-in lockout of the account (after too many failed sign-ins); a locked client
    address stays locked until its lockout ends."""
    _sign_ins().clear(account_subject(username))
    out.print(f"{username}: failed sign-ins forgotten; the account may sign in again")


def _unknown_services(services: tuple[str, ...]) -> list[str]:
    """Assignments naming no service or offer of the loaded county pack (a typo gives no access)."""
    from services.referrals.current import CurrentNetwork, NoCountyPackError

    if not services:
        return []
    try:
        offers = CurrentNetwork.from_settings(start()).network().offers
    except NoCountyPackError:
        out.print("[yellow]warning:[/] no county pack is loaded, so the services were not checked")
        return []
    known = {o.service_id for o in offers} | {o.offer_id for o in offers}
    return [s for s in services if s not in known]


@app.command("list")
@friendly_errors
def list_users() -> None:
    """Accounts with their role, hub areas and services (never passwords)."""
    table = Table("user", "name", "role", "areas", "services")
    for user in _store().list():
        table.add_row(
            user.username, user.display_name, user.role.value, " ".join(user.areas), " ".join(user.services)
        )
    out.print(table)


@app.command("demo")
@friendly_errors
def demo(
    password: Annotated[str, typer.Option(help="Password of every demo account.")] = DEMO_PASSWORD,
    area: Annotated[
        list[str] | None, typer.Option(help=f"Hub areas of the demo accounts [{COUNTY_WIDE}].")
    ] = None,
) -> None:
    """One demo account per role (user name = role, e.g. health-visitor), for `make run`; service
    workers are assigned to the demo network's services their role works for (DEMO_SERVICES)."""
    store = _store()
    for role in Role:
        label = f"Demo {GRANTS[role].label.lower()}"
        store.add(
            role.value, password, role, area or [COUNTY_WIDE], label, services=DEMO_SERVICES.get(role, ())
        )
    out.print(f"{len(Role)} demo accounts: {', '.join(r.value for r in Role)}; password: {password}")
