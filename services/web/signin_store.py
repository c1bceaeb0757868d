"""Staff sign-in state kept in the staff-accounts store (`users`; SQLite or PostgreSQL), shared by
every API replica: server-side session records and failed sign-in counters.

Why server-side records when the cookie is signed: a signed cookie alone cannot be taken back.
With a record per signed-in session, sign-out ends it (the old cookie no longer opens anything),
the absolute expiry holds whatever the cookie says, and an idle session ends on every replica.
Session ids and throttle subjects are stored as SHA-256 digests, so a reader of the database
learns neither a live session id nor a mistyped user name (people type passwords there). An
OpenID sign-in's record also holds what its claims were mapped to and its ID token (the hint for
ending the provider's session): the cookie carries neither. Every record names its door (`LOCAL`
or `OPENID`, migration 5), and one whose door and grants disagree opens nothing: an OpenID user
never becomes the local account that shares their name, nor a local session an OpenID one.

Each method is one short transaction on this store's own connection, behind a lock: the API
calls it from FastAPI's thread pool.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from services.streams.sqlstore import SqlStore
from services.timeline.users import UserStore

TOUCH_EVERY_S = 10.0
"""A session's last-seen time is written at most this often, or a tenth of the idle timeout when
that is shorter: a write per request would cost more than the idle timeout's precision is worth."""
KEEP_ENDED_S = 24 * 3600.0
"""Ended and expired session rows are deleted this long after their expiry."""
SessionDoor = Literal["local", "openid"]
LOCAL: SessionDoor = "local"
"""A local account's password started the session: who it is comes from the account store."""
OPENID: SessionDoor = "openid"
"""The OpenID provider started it: who it is comes from the grants its record holds."""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Limit:
    """At most `failures` failed sign-ins of one subject within `window_s`, else locked `window_s`."""

    failures: int
    window_s: float


@dataclass(frozen=True)
class LiveSession:
    """A live session's record, as a request reads it: its door, and for an OpenID sign-in
    (`door` OPENID, and only then) its mapped grants and ID token in `openid`."""

    door: SessionDoor | None = None
    openid: Mapping[str, Any] | None = None


class SignInStore(SqlStore):
    """Session records and sign-in failure counters (tables of the `users` store, migration 3)."""

    STORE = UserStore.STORE
    MIGRATIONS = UserStore.MIGRATIONS

    def __init__(self, connection: Any, reconnect: Callable[[], Any] | None = None) -> None:
        super().__init__(connection, reconnect)
        self._lock = threading.Lock()

    # sessions

    def start(
        self, session_id: str, username: str, now: float, absolute_s: float,
        openid: Mapping[str, Any] | None = None,
    ) -> float:  # fmt: skip
        """Record a new signed-in session: an OpenID sign-in's (door OPENID) with its grants and ID
        token, else a local account's (door LOCAL); returns its absolute expiry (epoch seconds)."""
        expires = now + absolute_s
        kept = orjson.dumps(dict(openid)).decode() if openid is not None else None
        door = LOCAL if openid is None else OPENID
        with self._lock, self.transaction():
            self._run("DELETE FROM staff_session WHERE expires_at < ?", (now - KEEP_ENDED_S,))
            self._run(
                "INSERT INTO staff_session (session_key, username, started_at, last_seen, expires_at, "
                "ended_at, openid, door) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                (digest(session_id), username, now, now, expires, kept, door),
            )
        return expires

    def live(self, session_id: str, username: str, now: float, idle_s: float) -> LiveSession | None:
        """The record when the session was started for `username`, is not ended, not past its
        absolute expiry, not idle for `idle_s`, and its door and grants agree, else None (a record
        failing any of these ends); a live session's last-seen time moves to `now`."""
        key = digest(session_id)
        with self._lock, self.transaction():
            row = self._one(
                "SELECT username, last_seen, expires_at, ended_at, openid, door FROM staff_session "
                "WHERE session_key = ?",
                (key,),
            )
            if row is None or row[0] != username or row[3] is not None:
                return None
            record = _record(row[5], row[4])
            if record is None or now >= float(row[2]) or now - float(row[1]) >= idle_s:
                self._run("UPDATE staff_session SET ended_at = ? WHERE session_key = ?", (now, key))
                return None
            if now - float(row[1]) >= min(TOUCH_EVERY_S, idle_s / 10):
                self._run("UPDATE staff_session SET last_seen = ? WHERE session_key = ?", (now, key))
        return record

    def end(self, session_id: str, now: float) -> None:
        """Sign-out: the session's cookie opens nothing from now on, on any replica."""
        with self._lock, self.transaction():
            self._run(
                "UPDATE staff_session SET ended_at = ? WHERE session_key = ? AND ended_at IS NULL",
                (now, digest(session_id)),
            )

    def end_all(self, username: str, now: float) -> int:
        """End every live session of `username` (an administrator's sign-out, a replaced account);
        returns how many were live."""
        with self._lock, self.transaction():
            cursor = self._run(
                "UPDATE staff_session SET ended_at = ? WHERE username = ? AND ended_at IS NULL "
                "AND expires_at > ?",
                (now, username, now),
            )
            return max(0, int(cursor.rowcount))

    # sign-in failures

    def locked_for(self, subjects: list[str], now: float) -> float:
        """Seconds until the longest lockout among `subjects` ends (0 when none is locked)."""
        keys = [digest(s) for s in subjects]
        marks = ", ".join("?" * len(keys))
        with self._lock:
            row = self._one(
                f"SELECT MAX(locked_until) FROM signin_failure WHERE subject IN ({marks})",  # noqa: S608
                keys,
            )
        until = float(row[0]) if row and row[0] is not None else 0.0
        return max(0.0, until - now)

    def fail(self, subjects: dict[str, Limit], now: float) -> None:
        """Count one failed sign-in against each subject; a subject at its limit is locked."""
        with self._lock, self.write_transaction():
            for subject, limit in subjects.items():
                key = digest(subject)
                row = self._one("SELECT failures, window_start FROM signin_failure WHERE subject = ?", (key,))
                fresh = row is None or now - float(row[1]) >= limit.window_s
                failures, start = (1, now) if fresh else (int(row[0]) + 1, float(row[1]))
                locked = now + limit.window_s if failures >= limit.failures else 0.0
                self._run(
                    self.upsert("signin_failure", ("subject", "failures", "window_start", "locked_until"),
                                ("subject",)),
                    (key, failures, start, locked),
                )  # fmt: skip

    def clear(self, subject: str) -> None:
        """A correct sign-in forgets the account's earlier failures (never an address's)."""
        key = digest(subject)
        with self._lock:
            if self._one("SELECT 1 FROM signin_failure WHERE subject = ?", (key,)) is None:
                return  # the usual case: no write for every successful API request
            with self.transaction():
                self._run("DELETE FROM signin_failure WHERE subject = ?", (key,))


def _record(door: Any, openid: Any) -> LiveSession | None:
    """The record when its door and grants agree: an OpenID session has grants, a local one none.
    Anything else (no door: a record from before migration 5) is believed as neither."""
    if door == OPENID and openid:
        return LiveSession(OPENID, orjson.loads(openid))
    if door == LOCAL and openid is None:
        return LiveSession(LOCAL)
    return None
