"""The county store (`county.sqlite` in the data dir, or schema `hubnet_county`): every loaded pack.

Each `hubnet county load` adds a version (numbered 1, 2, ...) holding the whole checked pack, who
loaded it and when; nothing is overwritten, so an earlier version can be read back and the audit
trail (`county.load` on `fh.audit`) matches a row here. Workers ask for `latest_version()` now and
then, a cheap query, and read the pack again only when the number has moved: a new pack reaches
them without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from schemas.county import CountyPack
from services.core.settings import Settings
from services.gateway.database import Database
from services.stores.migrations import Migration

STORE = "county"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS county_versions (
    version INTEGER PRIMARY KEY,
    county TEXT NOT NULL,
    label TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    pack TEXT NOT NULL
);
"""
MIGRATIONS = (Migration(1, "county pack versions", _SCHEMA),)


@dataclass(frozen=True)
class LoadedPack:
    """One loaded version of the county pack."""

    version: int
    loaded_at: datetime
    loaded_by: str
    pack: CountyPack


class CountyStore:
    """Repository for the county pack versions; thread-safe through `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate(MIGRATIONS)

    @classmethod
    def in_data_dir(cls, place: Path | Settings) -> CountyStore:
        """The county store in a data folder, or where the settings put it (PostgreSQL when set)."""
        return cls(Database.at(place, STORE))

    def close(self) -> None:
        self._db.close()

    def add(self, pack: CountyPack, loaded_by: str, at: datetime | None = None) -> int:
        """Store a checked pack as the next version and return its number."""
        when = (at or datetime.now(UTC)).isoformat()
        with self._db.transaction():
            row = self._db.row("SELECT COALESCE(MAX(version), 0) FROM county_versions")
            version = int(row[0] if row else 0) + 1
            self._db.execute(
                "INSERT INTO county_versions (version, county, label, loaded_at, loaded_by, pack) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (version, pack.manifest.id, pack.manifest.version, when, loaded_by, pack.model_dump_json()),
            )
        return version

    def latest_version(self) -> int:
        """The newest version number, 0 when no pack was ever loaded."""
        row = self._db.row("SELECT COALESCE(MAX(version), 0) FROM county_versions")
        return int(row[0]) if row else 0

    def get(self, version: int | None = None) -> LoadedPack | None:
        """That version (the newest by default), or None when there is none."""
        wanted = version if version is not None else self.latest_version()
        row = self._db.row(
            "SELECT version, loaded_at, loaded_by, pack FROM county_versions WHERE version = ?", (wanted,)
        )
        if row is None:
            return None
        return LoadedPack(
            int(row[0]), datetime.fromisoformat(row[1]), str(row[2]), CountyPack.model_validate_json(row[3])
        )
