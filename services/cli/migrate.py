"""`hubnet migrate`: bring every store's schema up to date (SQLite files or PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.runtime import friendly_errors, start
from services.stores.connect import redacted_url


@friendly_errors
def migrate(
    dry_run: Annotated[bool, typer.Option(help="Only list the migrations still to apply.")] = False,
) -> None:
    """Apply pending schema migrations to every store, in order, and say what was applied.

    Safe to run while services start (each store's migrations run under a lock) and again
    (nothing is applied twice). Stores also apply their own when they open."""
    from services.stores.catalogue import migrate as run

    settings = start()
    where = (
        redacted_url(settings.database_url)
        if settings.database_url
        else f"SQLite files in {settings.data_dir}"
    )
    typer.echo(f"stores in {where}")
    for store, migrations in run(settings, dry_run=dry_run).items():
        if not migrations:
            typer.echo(f"  {store}: up to date")
            continue
        verb = "pending" if dry_run else "applied"
        for migration in migrations:
            typer.echo(f"  {store}: {verb} {migration.version} {migration.name}")
