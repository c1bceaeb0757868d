"""What every command does first: read settings, set up logging, turn hubnet errors into messages.

A command that fails on purpose (bad configuration, no broker, bad input) prints one plain sentence
and exits non-zero; only a bug shows a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from schemas.errors import HubnetError
from services.core.logging import configure_logging
from services.core.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")
err = Console(stderr=True)
EXIT_FAILED = 2


def start() -> Settings:
    settings = load_settings()
    configure_logging(settings)
    return settings


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorator for commands: a `HubnetError` becomes a one-line message and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except HubnetError as error:
            fail(str(error))
        except KeyboardInterrupt:
            err.print("interrupted")
            sys.exit(130)

    return wrapper
