"""`hubnet partners add|list|rotate-key|revoke`: the partner registry and its API keys.

A new key is printed once and never again: only its hash is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from services.cli.runtime import fail, friendly_errors, start
from services.cli.tables import table_console
from services.gateway.database import Database
from services.gateway.keys import IssuedKey
from services.gateway.partners import ANY, Partner, PartnerStore

app = typer.Typer(
    help="Partner organisations, what they may publish, and their API keys.", no_args_is_help=True
)
out = table_console()


def _store() -> PartnerStore:
    return PartnerStore(Database.at(start()))


def _show_key(code: str, issued: IssuedKey) -> None:
    out.print(f"API key for [bold]{code}[/] (key id {issued.key_id}); shown once, store it now:")
    typer.echo(issued.token)


@app.command("add")
@friendly_errors
def add(
    code: Annotated[str, typer.Argument(help="Short partner code, e.g. nelft-hv (lower case, digits, '-').")],
    name: Annotated[str, typer.Option(help="Organisation name.")],
    org_id: Annotated[list[str], typer.Option(help="ODS code, school URN or charity number (repeatable).")],
    sender_id: Annotated[
        list[str] | None,
        typer.Option(help="Other sender id its messages may name, e.g. HL7 MSH-4 (repeatable)."),
    ] = None,
    fmt: Annotated[
        list[str] | None, typer.Option("--format", help="Format it may publish (repeatable; default any).")
    ] = None,
    event_type: Annotated[
        list[str] | None, typer.Option(help="Hub event code it may publish (repeatable; default any).")
    ] = None,
    consent_for: Annotated[
        list[str] | None,
        typer.Option(
            help="Partner whose sharing it may record a family's consent about ('*' any; repeatable; "
            "default none)."
        ),
    ] = None,
) -> None:
    """Register a partner and print its first API key."""
    try:
        partner = Partner(
            code=code, name=name, org_ids=tuple(org_id), sender_ids=tuple(sender_id or ()),
            formats=tuple(fmt or (ANY,)), event_types=tuple(event_type or (ANY,)),
            consent_for=tuple(consent_for or ()),
        )  # fmt: skip
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        fail(f"cannot register partner '{code}': {problems}")
    _show_key(code, _store().add(partner))


@app.command("list")
@friendly_errors
def list_partners() -> None:
    """Every partner with what it may publish and its usable keys (ids only)."""
    store = _store()
    now = datetime.now(UTC)
    table = Table("code", "name", "org ids", "formats", "event types", "consent for", "usable keys", "state")
    for partner in store.all():
        usable = [
            k.key_id + (f" (until {k.expires_at:%Y-%m-%d %H:%M})" if k.expires_at else "")
            for k in store.keys_of(partner.code)
            if k.usable(now)
        ]
        table.add_row(
            partner.code, partner.name, ", ".join(partner.org_ids + partner.sender_ids),
            ", ".join(partner.formats), ", ".join(partner.event_types), ", ".join(partner.consent_for) or "-",
            "\n".join(usable) or "-",
            "active" if partner.active else f"revoked {partner.revoked_at:%Y-%m-%d}",
        )  # fmt: skip
    out.print(table)


@app.command("rotate-key")
@friendly_errors
def rotate_key(
    code: Annotated[str, typer.Argument(help="Partner code.")],
    overlap_hours: Annotated[float, typer.Option(help="How long the old keys keep working.")] = 168.0,
) -> None:
    """Issue a new key; the old ones keep working for the overlap, then expire."""
    _show_key(code, _store().rotate_key(code, timedelta(hours=overlap_hours)))


@app.command("revoke")
@friendly_errors
def revoke(
    code: Annotated[str, typer.Argument(help="Partner code.")],
    key_id: Annotated[str | None, typer.Option("--key", help="Revoke only this key id.")] = None,
) -> None:
    """Stop one key, or the partner and all its keys, at once."""
    count = _store().revoke(code, key_id)
    what = f"key {key_id}" if key_id else f"partner {code} and {count} key(s)"
    out.print(f"revoked {what}")
