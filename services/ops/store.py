"""The operations store (`ops.sqlite` in the data dir): what ops remembers between two `hubnet status` runs.

- lag samples per consumer group, so status shows whether lag is rising or falling;
- each partner's expected interval (`hubnet partners expect`), kept here rather than in the gateway's
  partner registry, which has no such field;
- the last input seen from each partner and how far `fh.events` / `fh.dlq` were scanned for it, so
  each run reads only what arrived since the last one;
- what `hubnet monitor` saw: its latest status report and one sample per cycle (events and dead
  letters so far, lag per group, ingest-to-linked latency) for the last hour, which the ops page shows.

Plain SQL on the gateway's `Database` (SQLite WAL, or PostgreSQL schema `hubnet_ops`); every table
can be deleted and is rebuilt from Kafka, except the expectations operators typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from services.core.settings import Settings
from services.gateway.database import Database
from services.stores.migrations import Migration

STORE = "ops"
LAG_SAMPLES_KEPT = 20
_SCHEMA = """
CREATE TABLE IF NOT EXISTS lag_samples (
    group_id TEXT NOT NULL,
    sampled_at TEXT NOT NULL,
    lag INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS lag_samples_group ON lag_samples(group_id, sampled_at);
CREATE TABLE IF NOT EXISTS partner_expectations (
    partner TEXT PRIMARY KEY,
    every_s REAL NOT NULL,
    set_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS partner_activity (
    partner TEXT PRIMARY KEY,
    last_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scan_positions (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS monitor_samples (
    sampled_at TEXT PRIMARY KEY,
    sample TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS monitor_report (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    collected_at TEXT NOT NULL,
    every_s REAL NOT NULL,
    report TEXT NOT NULL
);
"""
SAMPLES_KEPT_FOR = timedelta(hours=2)
"""Monitor samples older than this are deleted; the ops page charts the last hour."""
MIGRATIONS = (Migration(1, "lag, partner activity, scan positions, monitor samples", _SCHEMA),)
"""Numbered like every store's (`hubnet migrate`); version 1 is idempotent, so older files are adopted."""


@dataclass(frozen=True)
class Expectation:
    """A partner should send at least once every `every`; silence is counted from `since` at the latest."""

    every: timedelta
    since: datetime


class OpsStore:
    """Repository for the tables above; thread-safe through `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate(MIGRATIONS)

    @classmethod
    def in_data_dir(cls, place: Path | Settings) -> OpsStore:
        """The ops store in a data folder, or where the settings put it (PostgreSQL when set)."""
        return cls(Database.at(place, STORE))

    def close(self) -> None:
        self._db.close()

    # consumer lag trend

    def add_lag_sample(self, group: str, at: datetime, lag: int) -> list[int]:
        """Record a group's total lag and return the samples before it, oldest first."""
        with self._db.transaction():
            earlier = [
                int(row[0])
                for row in self._db.rows(
                    "SELECT lag FROM lag_samples WHERE group_id = ? ORDER BY sampled_at DESC LIMIT ?",
                    (group, LAG_SAMPLES_KEPT - 1),
                )
            ]
            self._db.execute(
                "INSERT INTO lag_samples (group_id, sampled_at, lag) VALUES (?, ?, ?)",
                (group, at.isoformat(), lag),
            )
            self._db.execute(
                "DELETE FROM lag_samples WHERE group_id = ? AND sampled_at NOT IN "
                "(SELECT sampled_at FROM lag_samples WHERE group_id = ? ORDER BY sampled_at DESC LIMIT ?)",
                (group, group, LAG_SAMPLES_KEPT),
            )
        return earlier[::-1]

    # partner expectations

    def expect(self, partner: str, every: timedelta, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO partner_expectations (partner, every_s, set_at) VALUES (?, ?, ?) "
            "ON CONFLICT (partner) DO UPDATE SET every_s = excluded.every_s, set_at = excluded.set_at",
            (partner, every.total_seconds(), at.isoformat()),
        )

    def forget_expectation(self, partner: str) -> bool:
        return self._db.execute("DELETE FROM partner_expectations WHERE partner = ?", (partner,)) > 0

    def expectations(self) -> dict[str, Expectation]:
        rows = self._db.rows("SELECT partner, every_s, set_at FROM partner_expectations ORDER BY partner")
        return {
            str(partner): Expectation(timedelta(seconds=float(every)), datetime.fromisoformat(set_at))
            for partner, every, set_at in rows
        }

    # partner activity, scanned from the topics

    def last_activity(self) -> dict[str, datetime]:
        rows = self._db.rows("SELECT partner, last_at FROM partner_activity")
        return {str(partner): datetime.fromisoformat(at) for partner, at in rows}

    def scan_positions(self, topic: str) -> dict[int, int]:
        rows = self._db.rows("SELECT partition, next_offset FROM scan_positions WHERE topic = ?", (topic,))
        return {int(partition): int(offset) for partition, offset in rows}

    def save_scan(self, topic: str, positions: dict[int, int], seen: dict[str, datetime]) -> None:
        """Newest input per partner and where the scan stopped, together: a crash re-reads, never skips."""
        with self._db.transaction():
            known = self.last_activity()
            for partner, at in seen.items():
                if partner in known and known[partner] >= at:
                    continue
                self._db.execute(
                    "INSERT INTO partner_activity (partner, last_at) VALUES (?, ?) "
                    "ON CONFLICT (partner) DO UPDATE SET last_at = excluded.last_at",
                    (partner, at.isoformat()),
                )
            for partition, offset in positions.items():
                self._db.execute(
                    "INSERT INTO scan_positions (topic, partition, next_offset) VALUES (?, ?, ?) "
                    "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
                    (topic, partition, offset),
                )

    # what the monitor saw, for the ops page

    def add_monitor_sample(self, at: datetime, sample: str) -> None:
        """One monitor cycle's sample (JSON); samples older than `SAMPLES_KEPT_FOR` go."""
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO monitor_samples (sampled_at, sample) VALUES (?, ?) "
                "ON CONFLICT (sampled_at) DO UPDATE SET sample = excluded.sample",
                (at.isoformat(), sample),
            )
            self._db.execute(
                "DELETE FROM monitor_samples WHERE sampled_at < ?", ((at - SAMPLES_KEPT_FOR).isoformat(),)
            )

    def monitor_samples(self, since: datetime) -> list[str]:
        """Samples (JSON) taken at or after `since`, oldest first."""
        rows = self._db.rows(
            "SELECT sample FROM monitor_samples WHERE sampled_at >= ? ORDER BY sampled_at",
            (since.isoformat(),),
        )
        return [str(row[0]) for row in rows]

    def save_monitor_report(self, at: datetime, every_s: float, report: str) -> None:
        """The monitor's latest status report (JSON) and how often it collects, replacing the last."""
        self._db.execute(
            "INSERT INTO monitor_report (id, collected_at, every_s, report) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET collected_at = excluded.collected_at, "
            "every_s = excluded.every_s, report = excluded.report",
            (at.isoformat(), every_s, report),
        )

    def monitor_report(self) -> tuple[str, float] | None:
        """The monitor's latest report (JSON) and its collection interval, if it ever ran here."""
        row = self._db.row("SELECT report, every_s FROM monitor_report WHERE id = 1")
        return (str(row[0]), float(row[1])) if row else None
