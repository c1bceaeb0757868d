"""Where a key of a TOML file is: the line number a problem in `county.toml` points at.

Why: `tomllib` gives values, not positions, and a county fixing its manifest wants the line. The
manifest is simple TOML (keys, `[tables]` and `[[arrays of tables]]`), so following the headers is
enough: a key is found at its own line, and a path with no line of its own (a missing key, an
inline table) at the line of the nearest table that holds it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

Path = tuple[str | int, ...]


def toml_line(text: str, loc: Sequence[str | int]) -> int | None:
    """The line of `loc` (e.g. `("sign_in", "rule", 1, "role")`, rule indexes from 0), or of the
    deepest table above it, or None when neither is written in the file."""
    wanted = tuple(loc)
    best: tuple[int, int] | None = None  # (depth matched, line)
    table: Path = ()
    arrays: Counter[Path] = Counter()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[["):
            name = _path(line.strip("[] "))
            arrays[name] += 1
            table = (*name, arrays[name] - 1)
            here = table
        elif line.startswith("["):
            table = _path(line.strip("[] "))
            here = table
        elif "=" in line and not line.startswith("#"):
            here = (*table, *_path(line.split("=", 1)[0]))
        else:
            continue
        if here == wanted:
            return number
        if wanted[: len(here)] == here and (best is None or len(here) > best[0]):
            best = (len(here), number)
    return best[1] if best else None


def _path(dotted: str) -> Path:
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))
