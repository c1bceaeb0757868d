"""The reference store: organisation and area names by code, per kind, as the county loaded them.

SQLite by default (`<data dir>/reference.sqlite`), PostgreSQL when HUBNET_DATABASE_URL is set.
Loading a kind replaces all its rows in one transaction, so readers see the old register or the
new one, never half of each. `name_of` is what the web pages ask: a code to its name, or None, and
the page then shows the code.
"""

from __future__ import annotations

from pathlib import Path

from services.reference.files import read
from services.stores.migrations import Migration
from services.streams.sqlstore import SqlStore

SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS reference_name (
    kind TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (kind, code));
CREATE INDEX IF NOT EXISTS reference_name_code ON reference_name (code)
"""


class ReferenceStore(SqlStore):
    STORE = "reference"
    MIGRATIONS = (Migration(1, "organisation and area names by code", SCHEMA_1),)

    def replace(self, kind: str, rows: list[tuple[str, str]]) -> int:
        """Replace every row of `kind`; returns how many rows it now holds."""
        unique = dict(rows)
        with self.write_transaction():
            self._run("DELETE FROM reference_name WHERE kind = ?", (kind,))
            self._many(
                "INSERT INTO reference_name (kind, code, name) VALUES (?, ?, ?)",
                [(kind, code, name) for code, name in unique.items()],
            )
        return len(unique)

    def rows(self, kind: str) -> list[tuple[str, str]]:
        return [(str(r[0]), str(r[1])) for r in self._all(
            "SELECT code, name FROM reference_name WHERE kind = ? ORDER BY code", (kind,)
        )]  # fmt: skip

    def name_of(self, code: str) -> str | None:
        """The name a code has in any loaded kind (codes of different registers do not collide:
        ODS codes have letters, URNs six digits, charity numbers seven or eight, ONS codes nine)."""
        found = self._one("SELECT name FROM reference_name WHERE code = ? ORDER BY kind LIMIT 1", (code,))
        return str(found[0]) if found else None


def load_file(store: ReferenceStore, kind: str, path: Path) -> int:
    """Validate a reference file and load it: what `hubnet reference load` and the county pack call."""
    return store.replace(kind, read(kind, path.read_bytes()))
