"""The audit store's reads on both backends: the family page's "new since your last visit" marker
(services/web/family_summary.py `last_visit`) reads one user's records of one family newest first,
and that read is served by the (actor, target, at) index, not by reading and sorting every record
of the family or of the user, which grows with the life of the trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.timeline.audit_store import AuditStore
from tests.databases import Backend

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _row(n: int, actor: str, target: str) -> dict[str, str]:
    return {
        "audit_id": f"a{n}", "at": (START + timedelta(minutes=n)).isoformat(), "actor": actor,
        "actor_role": "health-visitor", "action": "family.read", "target": target, "outcome": "allowed",
        "reason": "", "trace_id": f"t{n}",
    }  # fmt: skip


def test_one_users_reads_of_one_family_come_newest_first_from_their_index(backend: Backend) -> None:
    store = backend.open(AuditStore)
    rows = [_row(n, ("hv", "sw", "hm")[n % 3], ("f1", "f2")[n % 2]) for n in range(60)]
    for row in rows:
        store.add_audit(row)
    mine = [r["audit_id"] for r in reversed(rows) if r["actor"] == "hv" and r["target"] == "f1"]
    assert [r["audit_id"] for r in store.audit_rows(actor="hv", target="f1", limit=5)] == mine[:5]

    sql = "SELECT audit_id FROM audit WHERE actor = ? AND target = ? ORDER BY at DESC LIMIT ?"
    if backend.name == "postgresql":
        store._run("SET enable_seqscan = off")  # a few rows: the planner would rightly scan them
        plan = store._all(f"EXPLAIN {sql}", ["hv", "f1", 5])
    else:
        plan = store._all(f"EXPLAIN QUERY PLAN {sql}", ["hv", "f1", 5])
    text = " ".join(str(row[-1]) for row in plan)
    assert "audit_actor_target_at" in text, text
    assert "TEMP B-TREE" not in text.upper(), text  # newest first without sorting the rows read
