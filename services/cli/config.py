"""`hubnet config`: show the effective configuration, or the README's table of variables."""

from __future__ import annotations

import typer
from pydantic import SecretStr

from services.cli.runtime import friendly_errors
from services.core.settings import Settings, load_settings
from services.stores.connect import redacted_url

app = typer.Typer(help="Show configuration and its documentation.", no_args_is_help=True)


def env_name(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else f"HUBNET_{field_name.upper()}"


def docs_table() -> str:
    """Markdown table of every setting; the README embeds exactly this (checked by a test)."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        default = "" if info.default is None else f"`{info.default}`"
        lines.append(f"| `{env_name(name)}` | {default} | {info.description} |")
    return "\n".join(lines)


@app.command("docs")
def docs() -> None:
    """Print the configuration table in Markdown (as the README shows it)."""
    typer.echo(docs_table())


@app.command("show")
@friendly_errors
def show() -> None:
    """Print the effective settings from the environment; secrets are masked (a bad value: one
    clear line naming the variable, as every command gives)."""
    settings = load_settings()
    for name in Settings.model_fields:
        value = getattr(settings, name)
        shown = "********" if isinstance(value, SecretStr) else value
        if name == "database_url" and value:
            shown = redacted_url(value)
        typer.echo(f"{env_name(name)}={'' if shown is None else shown}")
