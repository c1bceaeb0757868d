"""The audit trail's own store: who read, searched, decided or was refused what, when and why.

It is a store of its own (`<data dir>/audit.sqlite`, or schema `hubnet_audit`), not a table of the
timeline store: on SQLite a database has one writer at a time, and every staff read writes an audit
row, so audit rows in the timeline's file made each page view take the lock the timeline worker
commits under (issue #21: a worker stalled behind them). Rows written before this store existed
stay in the timeline store's old `audit` table (migration 1 there); `fh.audit` holds them all.
"""

from __future__ import annotations

from typing import Any

from services.stores.migrations import Migration
from services.streams.sqlstore import SqlStore

SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS audit (
    audit_id TEXT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT, action TEXT NOT NULL,
    target TEXT, outcome TEXT NOT NULL, reason TEXT, trace_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_target ON audit (target);
CREATE INDEX IF NOT EXISTS audit_actor ON audit (actor)
"""
SCHEMA_2 = """
CREATE INDEX IF NOT EXISTS audit_actor_target_at ON audit (actor, target, at)
"""
"""The family page's "new since your last visit" marker reads one user's records of one family,
newest first: with only single-column indexes that read every record of the family (or of the
user) and sorted them, a cost that grows with the life of the audit trail on every page view."""
_COLUMNS = ("audit_id", "at", "actor", "actor_role", "action", "target", "outcome", "reason", "trace_id")


class AuditStore(SqlStore):
    """Audit rows, one per record, idempotent on the audit id."""

    STORE = "audit"
    MIGRATIONS = (
        Migration(1, "audit trail", SCHEMA_1),
        Migration(2, "one user's reads of one record, newest first", SCHEMA_2),
    )

    def add_audit(self, row: dict[str, Any]) -> None:
        with self.transaction():
            self._run(
                f"INSERT INTO audit ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "  # noqa: S608
                "ON CONFLICT (audit_id) DO NOTHING",
                tuple(row[name] for name in _COLUMNS),
            )

    def audit_rows(
        self,
        *,
        actor: str | None = None,
        target: str | None = None,
        since: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Audit records newest first; `since` is UTC ISO text."""
        pairs = (("actor", actor), ("target", target))
        clauses = [f"{column} = ?" for column, value in pairs if value]
        params: list[Any] = [value for _, value in pairs if value]
        if since:
            clauses.append("at >= ?")
            params.append(since)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._all(
            f"SELECT {', '.join(_COLUMNS)} FROM audit {where} ORDER BY at DESC LIMIT ?",  # noqa: S608
            [*params, limit],
        )
        return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
