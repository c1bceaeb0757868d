"""The console the CLI's tables print to.

On a terminal, rich fits a table to the window. Piped or captured (a script, `| grep`, a log), rich
assumes 80 columns and squeezes the table into them, cutting ids short with an ellipsis
(issue #20): an id that cannot be copied whole into the next command is useless. So off a terminal
tables get the width they need, each row on its line, and no cell is cut.
"""

from __future__ import annotations

import sys

from rich.console import Console

PIPED_WIDTH = 10_000
"""Columns when stdout is not a terminal: wider than any row, so no column is ever squeezed."""


def table_console() -> Console:
    """stdout as the CLI prints tables to it: the terminal's width, or room for every cell."""
    return Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
