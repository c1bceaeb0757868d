"""`hubnet worker referrals` (registered on the worker group in main.py) and `hubnet referrals ...`:
the referral router, and hub staff's command-line view of referrals, their reasons and actions.

`list`, `show` and `act` act as a named hub staff account (`--by`, services/cli/acting.py) under
the rule the staff UI's referral pages apply (services/referrals/access.py): staff of the receiving
service see their services' referrals, hub managers their districts', the voluntary sector only
while the family's consent stands. Every read and action, allowed or refused, is audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import structlog
import typer
from rich.table import Table

from services.cli.acting import Acting, acting_as
from services.cli.runtime import fail, friendly_errors, start
from services.cli.tables import table_console
from services.core.settings import Settings
from services.referrals.access import Staff, staff_from_principal
from services.referrals.acting import no_referral_work
from services.referrals.current import NO_PACK, CurrentNetwork
from services.referrals.lifecycle import Action, LifecycleError
from services.referrals.network import DEFAULT_CONFIG
from services.referrals.service import ReferralNotFoundError, ReferralService
from services.referrals.store import ReferralStore
from services.referrals.worker import SCAN_INTERVAL_S

app = typer.Typer(help="Referrals routed across the hub network: list, show, act.", no_args_is_help=True)
out = table_console()
log = structlog.get_logger(__name__)

ByOpt = Annotated[
    str,
    typer.Option(
        "--by",
        help="The hub staff account acting (`hubnet users add`); the same rules as the staff UI's "
        "referral pages; audited.",
    ),
]
LIST, READ = "referrals.list", "referrals.read"  # the staff UI audits a referral's page as READ
NOT_FOUND = "there is no referral with that id for your services or districts"
NetworkOption = Annotated[
    Path,
    typer.Option("--network", help="Hub needs, SLAs and calendar (TOML); places come from the county pack."),
]


@friendly_errors
def worker(
    config: NetworkOption = DEFAULT_CONFIG,
    scan_interval: Annotated[float, typer.Option(help="Seconds between SLA scans.")] = SCAN_INTERVAL_S,
) -> None:
    """Route referral requests from fh.linked to the services of the loaded county pack (its
    services.csv and the Open Referral UK directory it names in `services_from`); Task
    lifecycle on fh.referrals; SLA escalation. With no pack loaded, referrals wait (and say so)."""
    from services.core.broker import require_bootstrap
    from services.ops.presence import Presence
    from services.referrals.worker import build
    from services.streams.app import run_worker

    settings = start()
    bootstrap = require_bootstrap(settings)
    networks = CurrentNetwork.from_settings(settings, config)
    if networks.version == 0:
        log.warning("referrals.no_county_pack", problem=NO_PACK)
    app_, _service = build(settings, bootstrap, networks, scan_interval_s=scan_interval)
    with Presence(settings, bootstrap, "referrals", worker="referrals", checks=[networks.problem]):
        run_worker(app_, loglevel=settings.log_level.lower())


def _service(settings: Settings, config: Path) -> ReferralService:
    return ReferralService(
        ReferralStore.from_settings(settings), CurrentNetwork.from_settings(settings, config)
    )


def _staff_of(acting: Acting, service: ReferralService, action: str, target: str | None) -> Staff:
    """The account's referral view; a role without referral work ends the command (audited)."""
    staff = staff_from_principal(acting.who, service.network)
    if staff is None:
        acting.refuse(action, target, no_referral_work(acting.who))
    return staff


def _places(staff: Staff, service: ReferralService) -> set[str]:
    """The districts whose referrals the account may see: a hub manager's, and those of the
    offers a service's staff work at (each referral is still checked by the access rule)."""
    offers = (service.network.offer(o) for o in staff.offers)
    return set(staff.districts) | {o.area for o in offers if o is not None}


@app.command("list")
@friendly_errors
def list_command(
    by: ByOpt,
    district: Annotated[
        str | None, typer.Option(help="Only this district (hub area id) of yours, e.g. E07000076.")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="Statuses (repeatable). Unset: every open one.")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only referrals past their SLA.")] = False,
    config: NetworkOption = DEFAULT_CONFIG,
) -> None:
    """The referrals the account sees in the staff UI (ids and statuses only)."""
    from services.referrals import api
    from services.referrals.lifecycle import TERMINAL, Status

    settings = start()
    service = _service(settings, config)
    with acting_as(settings, by, LIST, district) as acting:
        staff = _staff_of(acting, service, LIST, district)
        places = _places(staff, service)
        if district:
            if district not in places:
                acting.refuse(LIST, district, f"{district} is not a district you manage or work in")
            places = {district}
        wanted = status or [s.value for s in Status if s not in TERMINAL]
        candidates = (
            service.store.overdue(service.clock.now(), places)
            if overdue
            else service.store.in_districts(places, wanted)
        )
        found = [r for r in candidates if api.sees(service, staff, r)]
        acting.check(LIST, district, None, f"{len(found)} listed")
    table = Table("referral", "status", "need", "offer", "updated", "escalated")
    for referral in found:
        table.add_row(
            referral.referral_id,
            referral.status.value,
            referral.need or "-",
            referral.offer_id or "hub manager",
            referral.updated_at,
            "yes" if referral.escalated_at else "",
        )
    out.print(table)


@app.command("show")
@friendly_errors
def show(referral_id: str, by: ByOpt, config: NetworkOption = DEFAULT_CONFIG) -> None:
    """One referral you see in the staff UI: each routing decision with every candidate's reason,
    and its history."""
    from services.referrals import api

    settings = start()
    service = _service(settings, config)
    with acting_as(settings, by, READ, referral_id) as acting:
        staff = _staff_of(acting, service, READ, referral_id)
        referral = service.store.get(referral_id)
        if referral is None or not api.sees(service, staff, referral):
            acting.refuse(READ, referral_id, NOT_FOUND)
        acting.check(READ, referral_id, None)
        shown = api.detail(service, referral)
    out.print(f"[bold]{shown.referral_id}[/] {shown.status}: {shown.reason}", highlight=False)
    for attempt in shown.attempts:
        heading = f"attempt {attempt['attempt']}[/] {attempt['at']} -> {attempt['outcome']}"
        out.print(f"\n[bold]{heading}", highlight=False)
        for line in attempt["explanation"]:
            out.print(f"  {line}", highlight=False)
    out.print("\n[bold]history[/]")
    for step in shown.history:
        out.print(f"  {step['at']} {step['status']} by {step['actor']}: {step['reason']}", highlight=False)


@app.command("act")
@friendly_errors
def act(
    referral_id: str,
    action: Action,
    by: ByOpt,
    reason: Annotated[str | None, typer.Option(help="Why (required to reject or cancel).")] = None,
    offer: Annotated[str | None, typer.Option(help="For assign: the service@site to send it to.")] = None,
    config: NetworkOption = DEFAULT_CONFIG,
) -> None:
    """Open, accept, reject, start, complete, cancel or assign a referral as a member of hub staff:
    only staff of the receiving service act at a service, hub managers re-route; every attempt is
    audited (`hubnet audit`). The worker publishes the change."""
    from schemas.errors import AuthorisationError
    from services.referrals.acting import act_as

    settings = start()
    service = _service(settings, config)
    with acting_as(settings, by, f"referrals.{action.value}", referral_id) as acting:
        try:
            done = act_as(
                service, acting.who, acting.access.audit.write, referral_id=referral_id, action=action,
                reason=reason, offer_id=offer,
            )  # fmt: skip
        except (AuthorisationError, LifecycleError, ReferralNotFoundError) as error:
            fail(str(error))
    out.print(f"{done.referral_id}: {done.status.value} ({done.reason})", highlight=False)
