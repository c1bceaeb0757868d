"""One problem of a county pack: the file, line and field it is at, and what to do about it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the pack: where it is and what to do about it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PackError(ValueError):
    """The pack has problems; `problems` lists every one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"the county pack has {len(problems)} problem(s)")
        self.problems = tuple(problems)
