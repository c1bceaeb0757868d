"""`hubnet audit`: who read which family, person or entry, when, in what role, and why.

The trail itself names families, people and the reasons staff typed, so reading it is a read like
any other: the command acts as a named staff account (`--by`, services/cli/acting.py) whose role
may read the audit trail (services/timeline/policy.py `audit_refusal`: hub managers and
operations), and the read, allowed or refused, is itself on the trail.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from services.cli.acting import acting_as
from services.cli.runtime import friendly_errors, start
from services.cli.tables import table_console

out = table_console()
ACTION = "audit.read"


@friendly_errors
def audit(
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="The hub staff account reading (`hubnet users add`): a hub manager or operations; "
            "the read is audited.",
        ),
    ],
    actor: Annotated[str | None, typer.Option(help="Only this user.")] = None,
    target: Annotated[str | None, typer.Option(help="Only reads of this family, person or entry id.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only from this time (UTC).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    store: Annotated[Path | None, typer.Option(help="Audit store file [<data dir>/audit.sqlite].")] = None,
) -> None:
    """Timeline audit records, newest first (the same records are on fh.audit)."""
    from services.timeline.model import utc_text
    from services.timeline.policy import audit_refusal

    with acting_as(start(), by, ACTION, target, store) as acting:
        acting.check(ACTION, target, audit_refusal(acting.who.role), f"actor {actor}" if actor else None)
        rows = acting.access.audit.store.audit_rows(
            actor=actor, target=target, since=utc_text(since) if since else None, limit=limit
        )
    table = Table("at", "who", "role", "action", "target", "outcome", "why")
    for row in rows:
        cells = (row["actor"], row["actor_role"], row["action"], row["target"], row["outcome"], row["reason"])
        table.add_row(row["at"][:19], *(cell or "" for cell in cells))
    out.print(table)
    out.print(f"{len(rows)} record(s)")
