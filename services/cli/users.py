"""`hubnet users add|list|demo`: local hub staff accounts for the embedded default (OIDC in production)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.cli.runtime import friendly_errors, start
from services.timeline.policy import COUNTY_WIDE, GRANTS, Role
from services.timeline.users import UserStore

app = typer.Typer(help="Hub staff accounts (local user store).", no_args_is_help=True)
out = Console()
DEMO_PASSWORD = "hubnet-demo-password"  # noqa: S105 - documented demo accounts on the embedded default


def _store() -> UserStore:
    return UserStore.from_settings(start())


@app.command("add")
@friendly_errors
def add(
    username: str,
    role: Annotated[Role, typer.Option(help="What the user does; decides what they may see.")],
    area: Annotated[
        list[str],
        typer.Option(help=f"Hub area (district code, e.g. E07000076), repeatable; {COUNTY_WIDE} = all."),
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters."),
    ] = "",
) -> None:
    """Create or replace an account (the password is stored as a salted scrypt hash only)."""
    user = _store().add(username, password, role, area, name)
    out.print(f"{user.username}: {GRANTS[user.role].label}, areas {', '.join(user.areas)}")


@app.command("list")
@friendly_errors
def list_users() -> None:
    """Accounts with their role and hub areas (never passwords)."""
    table = Table("user", "name", "role", "areas")
    for user in _store().list():
        table.add_row(user.username, user.display_name, user.role.value, " ".join(user.areas))
    out.print(table)


@app.command("demo")
@friendly_errors
def demo(
    password: Annotated[str, typer.Option(help="Password of every demo account.")] = DEMO_PASSWORD,
    area: Annotated[
        list[str] | None, typer.Option(help=f"Hub areas of the demo accounts [{COUNTY_WIDE}].")
    ] = None,
) -> None:
    """One demo account per role (user name = role, e.g. health-visitor), for `make run`."""
    store = _store()
    for role in Role:
        store.add(role.value, password, role, area or [COUNTY_WIDE], f"Demo {GRANTS[role].label.lower()}")
    out.print(f"{len(Role)} demo accounts: {', '.join(r.value for r in Role)}; password: {password}")
