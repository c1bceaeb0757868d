"""`hubnet worker referrals` (registered on the worker group in main.py) and `hubnet referrals ...`:
the referral router, and a hub manager's command-line view of referrals and their reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import structlog
import typer
from rich.table import Table

from services.cli.runtime import fail, friendly_errors, start
from services.cli.tables import table_console
from services.core.settings import Settings
from services.referrals.current import NO_PACK, CurrentNetwork
from services.referrals.lifecycle import Action, LifecycleError
from services.referrals.network import DEFAULT_CONFIG
from services.referrals.service import ReferralNotFoundError, ReferralService
from services.referrals.store import ReferralStore
from services.referrals.worker import SCAN_INTERVAL_S

app = typer.Typer(help="Referrals routed across the hub network: list, show, act.", no_args_is_help=True)
out = table_console()
log = structlog.get_logger(__name__)

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


@app.command("list")
@friendly_errors
def list_command(
    district: Annotated[str, typer.Option(help="District code, e.g. E07000076.")],
    status: Annotated[
        list[str] | None, typer.Option(help="Statuses (repeatable). Unset: every open one.")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only referrals past their SLA.")] = False,
    config: NetworkOption = DEFAULT_CONFIG,
) -> None:
    """Referrals of one district (ids and statuses only)."""
    from services.referrals.lifecycle import TERMINAL, Status

    service = _service(start(), config)
    wanted = status or [s.value for s in Status if s not in TERMINAL]
    found = (
        service.store.overdue(service.clock.now(), [district])
        if overdue
        else service.store.in_districts([district], wanted)
    )
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
def show(referral_id: str, config: NetworkOption = DEFAULT_CONFIG) -> None:
    """One referral: each routing decision with every candidate's reason, and its history."""
    service = _service(start(), config)
    try:
        referral = service.get(referral_id)
    except ReferralNotFoundError as error:
        fail(str(error))
    out.print(f"[bold]{referral.referral_id}[/] {referral.status.value}: {referral.reason}", highlight=False)
    for attempt in service.store.attempts(referral_id):
        out.print(f"\n[bold]attempt {attempt.attempt}[/] {attempt.at} -> {attempt.outcome}", highlight=False)
        for line in attempt.explanation:
            out.print(f"  {line}", highlight=False)
    out.print("\n[bold]history[/]")
    for at, state, actor, reason in service.store.history(referral_id):
        out.print(f"  {at} {state} by {actor}: {reason}", highlight=False)


@app.command("act")
@friendly_errors
def act(
    referral_id: str,
    action: Action,
    by: Annotated[
        str,
        typer.Option(
            "--by", help="The hub staff account acting (`hubnet users add`); the same rules as the inbox."
        ),
    ],
    reason: Annotated[str | None, typer.Option(help="Why (required to reject or cancel).")] = None,
    offer: Annotated[str | None, typer.Option(help="For assign: the service@site to send it to.")] = None,
    config: NetworkOption = DEFAULT_CONFIG,
) -> None:
    """Open, accept, reject, start, complete, cancel or assign a referral as a member of hub staff:
    only staff of the receiving service act at a service, hub managers re-route; every attempt is
    audited (`hubnet audit`). The worker publishes the change."""
    from schemas.errors import AuthorisationError
    from services.cli.acting import acting_as
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
