"""`hubnet --help` and every sub-app's `--help` list their commands in whole sentences.

Real `hubnet` processes at a fixed width (COLUMNS=100). An entry is "cut mid-sentence" when one of
its lines ends although the next word would still have fitted in the column: the break is the
source docstring's, not the terminal's (before, `status` read "...; exit" / "status 1 when...").
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise, takewhile
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup

from services.cli.help_text import summary
from services.cli.main import app

HUBNET = Path(sys.executable).with_name("hubnet")
COLUMNS = 100
BORDER = "│"


def _groups(group: TyperGroup, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            yield from _groups(command, (*path, name))


ROOT = typer.main.get_command(app)
assert isinstance(ROOT, TyperGroup)
GROUPS = list(_groups(ROOT))


def _help(path: tuple[str, ...]) -> str:
    env = {**os.environ, "COLUMNS": str(COLUMNS), "NO_COLOR": "1"}
    done = subprocess.run(
        [str(HUBNET), *path, "--help"], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


def _entries(text: str) -> dict[str, list[str]]:
    """The Commands panel as name -> the entry's description lines, as drawn."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("╭─ Commands"))
    panel = takewhile(lambda line: line.startswith(BORDER), lines[start + 1 :])
    rows = [line[2:-2].rstrip() for line in panel]
    column = len(rows[0]) - len(rows[0].split(maxsplit=1)[1])
    entries: dict[str, list[str]] = {}
    for row in rows:
        if not row[:column].isspace():
            entries[row[:column].strip()] = []
        entries[list(entries)[-1]].append(row[column:])
    return entries


def _cut_lines(description: list[str], width: int) -> list[str]:
    """Lines of an entry that end although the next word would have fitted on them."""
    return [
        line
        for line, following in pairwise(description)
        if len(line) + 1 + len(following.split(maxsplit=1)[0]) <= width
    ]


@pytest.mark.parametrize("path", GROUPS, ids=lambda path: " ".join(("hubnet", *path)))
def test_every_command_list_reads_in_whole_sentences(path: tuple[str, ...]) -> None:
    group = ROOT
    for name in path:
        group = group.commands[name]
    assert isinstance(group, TyperGroup)
    entries = _entries(_help(path))
    width = COLUMNS - len("│ " + " │") - (len(max(entries, key=len)) + 2)  # less the name column
    assert sorted(entries) == sorted(group.commands)
    for name, description in entries.items():
        assert _cut_lines(description, width) == [], f"`{name}` breaks mid-sentence: {description}"
        command = group.commands[name]
        assert " ".join(description) == summary(command.short_help or command.help or "")
