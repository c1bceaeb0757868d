"""Command lists in `hubnet --help` read as whole sentences.

Typer's rich help keeps a docstring's source line breaks in a group's command list (a command's
own `--help` joins them), so a summary wrapped at 100 characters in the source broke mid-sentence
on screen ("...; exit" / "status 1 when..."). Every command therefore gets its list entry from
here, once, after all commands are registered: the first paragraph of its docstring on one line.
"""

from __future__ import annotations

import inspect

import typer


def summary(doc: str) -> str:
    """The first paragraph of a docstring as one line, the way a command list should show it."""
    first_paragraph = inspect.cleandoc(doc).partition("\f")[0].split("\n\n")[0]
    return " ".join(first_paragraph.split())


def flow_command_lists(app: typer.Typer) -> None:
    """Give every command of `app` and its sub-apps a one-line summary for the command lists.

    A command that sets its own `help` or `short_help` keeps it; only docstrings are flowed.
    """
    for command in app.registered_commands:
        if command.help is None and command.short_help is None and command.callback is not None:
            command.short_help = summary(command.callback.__doc__ or "") or None
    for group in app.registered_groups:
        if group.typer_instance is not None:
            flow_command_lists(group.typer_instance)
