"""The identity index: plain SQL behind one repository class, SQLite by default.

The SQL is portable (no SQLite-only functions; services/streams/sqlstore.py translates `?` for
drivers that use `%s`), so a PostgreSQL connection from the DB-API works the same. Nothing here decides
anything: the resolver and families modules do, and call these methods inside one transaction
per event, so an event's effects are stored whole or not at all.

State is derived: replaying fh.events into an empty store rebuilds it with the same ids, except
human review decisions, which are kept in `decision` and `review` (and on the audit trail).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.envelope import Identifier
from schemas.identifiers import NHS_NUMBER
from services.identity.blocking import BLOCK_LIMIT
from services.identity.facts import Facts
from services.streams.sqlstore import SqlStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS person (
    person_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, merged_into TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS person_seq ON person (seq);
CREATE TABLE IF NOT EXISTS ident (
    token TEXT PRIMARY KEY, person_id TEXT NOT NULL, verified INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS ident_person ON ident (person_id);
CREATE TABLE IF NOT EXISTS profile (
    profile_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, source_token TEXT NOT NULL, nhs TEXT NOT NULL,
    verified INTEGER NOT NULL, given TEXT NOT NULL, family TEXT NOT NULL, birth_date TEXT NOT NULL,
    sex TEXT NOT NULL, postcode TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS profile_person ON profile (person_id);
DROP INDEX IF EXISTS profile_source;
DROP INDEX IF EXISTS profile_postcode;
CREATE INDEX IF NOT EXISTS profile_postcode_family ON profile (postcode, family, person_id);
CREATE TABLE IF NOT EXISTS block (key TEXT NOT NULL, profile_id TEXT NOT NULL, PRIMARY KEY (key, profile_id));
CREATE TABLE IF NOT EXISTS family (family_id TEXT PRIMARY KEY, merged_into TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS family_ident (token TEXT PRIMARY KEY, family_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS member (
    family_id TEXT NOT NULL, person_id TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (family_id, person_id));
CREATE INDEX IF NOT EXISTS member_person ON member (person_id);
CREATE TABLE IF NOT EXISTS suggestion (
    family_id TEXT NOT NULL, person_id TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (family_id, person_id));
CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY, outcome TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS review (
    review_id TEXT PRIMARY KEY, token TEXT NOT NULL, person_id TEXT NOT NULL, candidate_id TEXT NOT NULL,
    score TEXT NOT NULL, status TEXT NOT NULL, decided_by TEXT, decided_at TEXT, reason TEXT,
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS review_status ON review (status);
CREATE TABLE IF NOT EXISTS decision (
    token_a TEXT NOT NULL, token_b TEXT NOT NULL, verdict TEXT NOT NULL, "by" TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (token_a, token_b));
CREATE INDEX IF NOT EXISTS decision_b ON decision (token_b);
CREATE TABLE IF NOT EXISTS notice (
    seq INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT NOT NULL, headers TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, action TEXT NOT NULL, person_id TEXT, other_id TEXT,
    "by" TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_person ON audit (person_id);
"""
_PROFILE_COLUMNS = (
    "profile_id, person_id, source_token, nhs, verified, given, family, birth_date, sex, postcode"
)


def now() -> str:
    return datetime.now(UTC).isoformat()


class IdentityStore(SqlStore):
    """The identity index; one `transaction()` per event or human decision."""

    STORE = "identity"
    SCHEMA = SCHEMA
    SQLITE_CACHE_KIB = 131072  # 128 MiB: the blocking index stays in memory at a million persons

    # persons and identifiers

    def add_person(self, person_id: str) -> None:
        seq = self._one("SELECT COALESCE(MAX(seq), 0) + 1 FROM person")[0]
        self._run("INSERT INTO person (person_id, seq, created_at) VALUES (?, ?, ?)", (person_id, seq, now()))

    def person_exists(self, person_id: str) -> bool:
        return self._one("SELECT 1 FROM person WHERE person_id = ?", (person_id,)) is not None

    def seq(self, person_id: str) -> int:
        row = self._one("SELECT seq FROM person WHERE person_id = ?", (person_id,))
        return int(row[0]) if row else 0

    def canonical(self, person_id: str) -> str:
        """A merged-away id's surviving person, so old ids on the timeline still resolve."""
        seen = {person_id}
        while row := self._one("SELECT merged_into FROM person WHERE person_id = ?", (person_id,)):
            if row[0] is None or row[0] in seen:
                break
            person_id = row[0]
            seen.add(person_id)
        return person_id

    def persons_of(self, tokens: Iterable[str]) -> dict[str, str]:
        return {token: person_id for token, (person_id, _) in self.owners(tokens).items()}

    def owners(self, tokens: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """token -> (person id, verified) for the identifiers already linked, in one query."""
        tokens = list(tokens)
        if not tokens:
            return {}
        marks = ",".join("?" * len(tokens))
        rows = self._all(f"SELECT token, person_id, verified FROM ident WHERE token IN ({marks})", tokens)  # noqa: S608
        return {token: (person_id, bool(verified)) for token, person_id, verified in rows}

    def attach(self, token: str, person_id: str, verified: bool = False) -> None:
        self._run(
            "INSERT INTO ident (token, person_id, verified) VALUES (?, ?, ?) "
            "ON CONFLICT (token) DO UPDATE SET person_id = excluded.person_id, "
            "verified = CASE WHEN excluded.verified > ident.verified THEN 1 ELSE ident.verified END",
            (token, person_id, int(verified)),
        )

    def tokens_of(self, person_id: str) -> list[tuple[str, bool]]:
        rows = self._all("SELECT token, verified FROM ident WHERE person_id = ? ORDER BY token", (person_id,))
        return [(token, bool(verified)) for token, verified in rows]

    def verified_nhs(self, person_id: str) -> set[str]:
        rows = self._all("SELECT nhs FROM profile WHERE person_id = ? AND verified = 1", (person_id,))
        return {row[0] for row in rows if row[0]}

    def nhs_numbers(self, person_id: str) -> set[str]:
        return {
            row[0] for row in self._all("SELECT nhs FROM profile WHERE person_id = ?", (person_id,)) if row[0]
        }

    # profiles and blocking

    def add_profile(self, profile_id: str, person_id: str, facts: Facts, keys: Iterable[str]) -> bool:
        """File a source record's facts under its blocking keys; False when already filed."""
        filed = self._run(
            f"INSERT INTO profile ({_PROFILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
            "ON CONFLICT (profile_id) DO NOTHING",
            (
                profile_id,
                person_id,
                facts.source_token,
                facts.nhs,
                int(facts.verified_nhs),
                *facts.demographics(),
            ),
        ).rowcount
        if not filed:
            return False
        self._many(
            "INSERT INTO block (key, profile_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(key, profile_id) for key in keys],
        )
        return True

    def candidates(self, keys: Iterable[str]) -> list[tuple[str, Facts]]:
        """(person id, facts) of stored records sharing a key, at most BLOCK_LIMIT read per key.

        One statement for all the keys of a record: a capped sub-select per key, so a block
        larger than the cap is never read whole, and each record once however many keys it
        shares. Ordered by profile id, so replaying gives the same order."""
        keys = sorted(keys)
        if not keys:
            return []
        capped = " UNION ALL ".join(
            f"SELECT profile_id FROM (SELECT profile_id FROM block WHERE key = ? LIMIT ?) AS b{n}"  # noqa: S608
            for n in range(len(keys))
        )
        rows = self._all(
            f"SELECT {_PROFILE_COLUMNS} FROM profile WHERE profile_id IN ({capped}) ORDER BY profile_id",  # noqa: S608
            [value for key in keys for value in (key, BLOCK_LIMIT)],
        )
        return [(row[1], _facts(row)) for row in rows]

    def profiles_of(self, person_id: str) -> list[Facts]:
        query = f"SELECT {_PROFILE_COLUMNS} FROM profile WHERE person_id = ?"  # noqa: S608
        return [_facts(r) for r in self._all(query, (person_id,))]

    def move_person(self, old: str, new: str) -> None:
        """Repoint everything of person `old` to `new` (a merge)."""
        for table in ("ident", "profile"):
            self._run(f"UPDATE {table} SET person_id = ? WHERE person_id = ?", (new, old))  # noqa: S608
        self._run("UPDATE person SET merged_into = ? WHERE person_id = ?", (new, old))

    def move_tokens(self, tokens: Sequence[str], old: str, new: str) -> None:
        """Move identifiers of person `old`, and the profiles they stated, to person `new` (an
        unmerge). Profiles are found through their person, so no index on the source is kept up
        on every event for this rare human decision."""
        for token in tokens:
            self._run("UPDATE ident SET person_id = ? WHERE token = ?", (new, token))
            self._run(
                "UPDATE profile SET person_id = ? WHERE person_id = ? AND source_token = ?", (new, old, token)
            )

    # families

    def family_of_token(self, token: str) -> str | None:
        row = self._one("SELECT family_id FROM family_ident WHERE token = ?", (token,))
        return row[0] if row else None

    def add_family(self, family_id: str, token: str | None = None) -> None:
        self._run(
            "INSERT INTO family (family_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (family_id, now()),
        )
        if token:
            self._run(
                "INSERT INTO family_ident (token, family_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (token, family_id),
            )

    def add_member(self, family_id: str, person_id: str, role: str, source: str) -> bool:
        """True when the person was not yet a member."""
        if self._one("SELECT 1 FROM member WHERE family_id = ? AND person_id = ?", (family_id, person_id)):
            return False
        self._run(
            "INSERT INTO member (family_id, person_id, role, source) VALUES (?, ?, ?, ?)",
            (family_id, person_id, role, source),
        )
        return True

    def remove_member(self, family_id: str, person_id: str) -> None:
        self._run("DELETE FROM member WHERE family_id = ? AND person_id = ?", (family_id, person_id))

    def memberships(self, person_id: str) -> list[tuple[str, str]]:
        """(family id, role) of each family a person belongs to, oldest family first."""
        return [
            (row[0], row[1])
            for row in self._all(
                "SELECT m.family_id, m.role FROM member m JOIN family f ON f.family_id = m.family_id "
                "WHERE m.person_id = ? ORDER BY f.created_at, m.family_id",
                (person_id,),
            )
        ]

    def members(self, family_id: str) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in self._all("SELECT person_id, role FROM member WHERE family_id = ?", (family_id,))
        ]

    def move_memberships(self, old: str, new: str) -> None:
        for family_id, role in self.memberships(old):
            self.remove_member(family_id, old)
            self.add_member(family_id, new, role, "merge")

    def suggest(self, family_id: str, person_id: str, reason: str) -> None:
        self._run(
            "INSERT INTO suggestion (family_id, person_id, reason) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (family_id, person_id, reason),
        )

    def suggestions(self) -> list[tuple[str, str, str]]:
        return [(r[0], r[1], r[2]) for r in self._all("SELECT family_id, person_id, reason FROM suggestion")]

    def namesake_families(self, postcode: str, family_name: str) -> list[str]:
        """Families with a member whose record gives this postcode and this family name (for
        co-residence suggestions): read from one index, however many people share the postcode."""
        rows = self._all(
            "SELECT DISTINCT m.family_id FROM profile p JOIN member m ON m.person_id = p.person_id "
            "WHERE p.postcode = ? AND p.family = ? LIMIT ?",
            (postcode, family_name, BLOCK_LIMIT),
        )
        return [r[0] for r in rows]

    # idempotency

    def seen(self, event_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT outcome FROM seen WHERE event_id = ?", (event_id,))
        return orjson.loads(row[0]) if row else None

    def remember(self, event_id: str, outcome: dict[str, Any]) -> None:
        self._run(
            "INSERT INTO seen (event_id, outcome) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (event_id, orjson.dumps(outcome).decode()),
        )

    # review queue and human decisions

    def add_review(
        self, review_id: str, token: str, person_id: str, candidate_id: str, score: dict[str, Any]
    ) -> None:
        self._run(
            "INSERT INTO review (review_id, token, person_id, candidate_id, score, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'open', ?) ON CONFLICT DO NOTHING",
            (review_id, token, person_id, candidate_id, orjson.dumps(score).decode(), now()),
        )

    def reviews(self, status: str | None = "open") -> list[dict[str, Any]]:
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self._all(
            "SELECT review_id, token, person_id, candidate_id, score, status, decided_by, decided_at, "  # noqa: S608
            f"reason, created_at FROM review {where} ORDER BY created_at, review_id",
            params,
        )
        keys = (
            "review_id",
            "token",
            "person_id",
            "candidate_id",
            "score",
            "status",
            "decided_by",
            "decided_at",
            "reason",
            "created_at",
        )
        return [{**dict(zip(keys, row, strict=True)), "score": orjson.loads(row[4])} for row in rows]

    def close_review(self, review_id: str, status: str, by: str, reason: str) -> None:
        self._run(
            "UPDATE review SET status = ?, decided_by = ?, decided_at = ?, reason = ? WHERE review_id = ?",
            (status, by, now(), reason, review_id),
        )

    def decide(self, token_a: str, token_b: str, verdict: str, by: str) -> None:
        first, second = sorted((token_a, token_b))
        self._run(
            'INSERT INTO decision (token_a, token_b, verdict, "by", at) VALUES (?, ?, ?, ?, ?) '
            'ON CONFLICT (token_a, token_b) DO UPDATE SET verdict = excluded.verdict, "by" = excluded."by", '
            "at = excluded.at",
            (first, second, verdict, by, now()),
        )

    def verdicts_between(self, person_a: str, person_b: str) -> set[str]:
        """Human verdicts ('same', 'different') between any identifier of one person and the other."""
        rows = self._all(
            "SELECT d.verdict FROM decision d JOIN ident a ON a.token IN (d.token_a, d.token_b) "
            "JOIN ident b ON b.token IN (d.token_a, d.token_b) AND b.token <> a.token "
            "WHERE a.person_id = ? AND b.person_id = ?",
            (person_a, person_b),
        )
        return {r[0] for r in rows}

    def decisions_about(self, tokens: Sequence[str]) -> list[tuple[str, str, str]]:
        """(token, other token, verdict) of every human decision naming one of these identifiers:
        one query per record, and almost always nothing."""
        if not tokens:
            return []
        marks = ",".join("?" * len(tokens))
        rows = self._all(
            f"SELECT token_a, token_b, verdict FROM decision WHERE token_a IN ({marks}) "  # noqa: S608
            f"UNION ALL SELECT token_b, token_a, verdict FROM decision WHERE token_b IN ({marks})",
            [*tokens, *tokens],
        )
        return [(r[0], r[1], r[2]) for r in rows if r[0] != r[1]]

    # notices: merge/unmerge events waiting for the worker to publish (a transactional outbox)

    def queue_notice(self, key: bytes, value: bytes, headers: Sequence[tuple[str, bytes]]) -> None:
        encoded = orjson.dumps([[k, v.decode()] for k, v in headers]).decode()
        self._run(
            "INSERT INTO notice (seq, key, value, headers) "
            "SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM notice",
            (key.decode(), value.decode(), encoded),
        )

    def notices(self, limit: int = 100) -> list[tuple[int, bytes, bytes, list[tuple[str, bytes]]]]:
        rows = self._all("SELECT seq, key, value, headers FROM notice ORDER BY seq LIMIT ?", (limit,))
        return [
            (r[0], r[1].encode(), r[2].encode(), [(k, v.encode()) for k, v in orjson.loads(r[3])])
            for r in rows
        ]

    def drop_notices(self, up_to_seq: int) -> None:
        self._run("DELETE FROM notice WHERE seq <= ?", (up_to_seq,))

    # audit

    def audit(
        self,
        action: str,
        person_id: str | None,
        other_id: str | None,
        *,
        by: str,
        reason: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._run(
            'INSERT INTO audit (seq, at, action, person_id, other_id, "by", reason, detail) '
            "SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ? FROM audit",
            (now(), action, person_id, other_id, by, reason, orjson.dumps(detail or {}).decode()),
        )

    def history(self, person_id: str) -> list[dict[str, Any]]:
        rows = self._all(
            'SELECT seq, at, action, person_id, other_id, "by", reason, detail FROM audit '
            "WHERE person_id = ? OR other_id = ? ORDER BY seq",
            (person_id, person_id),
        )
        keys = ("seq", "at", "action", "person_id", "other_id", "by", "reason", "detail")
        return [{**dict(zip(keys, row, strict=True)), "detail": orjson.loads(row[7])} for row in rows]

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._one(f"SELECT COUNT(*) FROM {table}")[0])  # noqa: S608
            for table in ("person", "ident", "profile", "family", "member", "review")
        }


def _facts(row: Sequence[Any]) -> Facts:
    _, _, source_token, nhs, verified, given, family, birth_date, sex, postcode = row
    system, _, value = source_token.partition("|")
    identifiers = [Identifier(system=system, value=value)]
    if nhs and not source_token.endswith(f"|{nhs}"):
        identifiers.insert(0, Identifier(system=NHS_NUMBER, value=nhs))
    return Facts(
        identifiers=tuple(identifiers), verified_nhs=bool(verified), given=given, family=family,
        birth_date=birth_date, sex=sex, postcode=postcode,
    )  # fmt: skip
