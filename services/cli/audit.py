"""`hubnet audit`: who read which family, person or entry, when, in what role, and why."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from services.cli.runtime import friendly_errors, start
from services.cli.tables import table_console

out = table_console()


@friendly_errors
def audit(
    actor: Annotated[str | None, typer.Option(help="Only this user.")] = None,
    target: Annotated[str | None, typer.Option(help="Only reads of this family, person or entry id.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only from this time (UTC).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    store: Annotated[Path | None, typer.Option(help="Audit store file [<data dir>/audit.sqlite].")] = None,
) -> None:
    """Timeline audit records, newest first (the same records are on fh.audit)."""
    from services.timeline.audit_store import AuditStore
    from services.timeline.model import utc_text

    trail = AuditStore.from_settings(start(), store)
    try:
        rows = trail.audit_rows(
            actor=actor, target=target, since=utc_text(since) if since else None, limit=limit
        )
    finally:
        trail.close()
    table = Table("at", "who", "role", "action", "target", "outcome", "why")
    for row in rows:
        cells = (row["actor"], row["actor_role"], row["action"], row["target"], row["outcome"], row["reason"])
        table.add_row(row["at"][:19], *(cell or "" for cell in cells))
    out.print(table)
    out.print(f"{len(rows)} record(s)")
