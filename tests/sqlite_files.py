"""Opening a store's SQLite file directly from a test, closed again on leaving the block.

`with sqlite3.connect(path) as db:` only commits or rolls back on leaving: it does not close the
connection, and a CPython 3.11 connection sits in a reference cycle (its statement cache refers
back to it), so it stays open until the cyclic garbage collector runs. While it is open, closing
the store is not the last close of the file, so SQLite neither checkpoints nor removes the
`-wal` file: a copy of the main file alone then misses the rows (a read-only connection closed
last never checkpoints at all). Tests read and write store files through `opened()` instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def opened(
    path: Path | str, *, read_only: bool = True, timeout_s: float = 5.0
) -> Iterator[sqlite3.Connection]:
    """A connection to the file (read-only unless `read_only=False`, which commits on success),
    closed whatever happens in the block."""
    target, uri = (f"file:{path}?mode=ro", True) if read_only else (str(path), False)
    db = sqlite3.connect(target, uri=uri, timeout=timeout_s)
    try:
        with db:  # commit on success, roll back on error
            yield db
    finally:
        db.close()
