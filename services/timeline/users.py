"""Hub staff accounts: the local user store of the embedded default, and the OIDC claims mapping.

Local users have salted scrypt password hashes (hashlib.scrypt, n=2**14, r=8, p=1), a role, hub
areas and the services they are assigned to (service ids such as `family-support`, or one
`service@site` offer): referrals are acted on only by staff of the receiving service
(services/referrals/access.py). With an OpenID Connect provider in front (a reverse proxy such as
oauth2-proxy that verifies the ID token), `principal_from_claims` maps its claims to the same
`Principal`, so the policy and the audit never know which one signed the user in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.errors import HubnetError
from services.stores.migrations import Migration
from services.streams.sqlstore import SqlStore
from services.timeline.policy import COUNTY_WIDE, Role

SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS hub_user (
    username TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL, areas TEXT NOT NULL,
    salt TEXT NOT NULL, password_hash TEXT NOT NULL, active INTEGER NOT NULL, created_at TEXT NOT NULL)
"""
SCHEMA_2 = "ALTER TABLE hub_user ADD COLUMN services TEXT NOT NULL DEFAULT '[]'"
SCHEMA_3 = """
CREATE TABLE IF NOT EXISTS staff_session (
    session_key TEXT PRIMARY KEY, username TEXT NOT NULL, started_at REAL NOT NULL,
    last_seen REAL NOT NULL, expires_at REAL NOT NULL, ended_at REAL);
CREATE INDEX IF NOT EXISTS staff_session_expiry ON staff_session (expires_at);
CREATE TABLE IF NOT EXISTS signin_failure (
    subject TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start REAL NOT NULL,
    locked_until REAL NOT NULL)
"""
"""Staff sign-in state (services/web/signin_store.py): server-side session records, so sign-out
and expiry hold on every replica, and failed sign-in counters for lockout. Keys are SHA-256
digests: neither a session id nor a typed user name is stored as such."""
SCHEMA_4 = "ALTER TABLE staff_session ADD COLUMN openid TEXT"
"""An OpenID sign-in's mapped grants and ID token (JSON), kept with its session record rather
than in the cookie: the browser never holds the token, and the grants end with the record."""
SCHEMA_5 = """
ALTER TABLE staff_session ADD COLUMN door TEXT;
UPDATE staff_session SET ended_at = last_seen WHERE ended_at IS NULL
"""
"""Each session record names the door that started it (a local account's password or the OpenID
provider), and a record is believed only when its door and its grants agree. Sessions live at this
migration end (staff sign in again): a record from before migration 4 cannot tell an OpenID
session from a local one, and must never open a local account that happens to share the name."""
MIGRATIONS = (
    Migration(1, "local hub staff accounts", SCHEMA_1),
    Migration(2, "per-service assignment of hub staff", SCHEMA_2),
    Migration(3, "staff sessions and sign-in failures", SCHEMA_3),
    Migration(4, "OpenID sessions keep their grants and ID token server-side", SCHEMA_4),
    Migration(5, "session records name their door; earlier sessions end", SCHEMA_5),
)
_COLUMNS = "username, display_name, role, areas, services"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
MIN_PASSWORD = 10


@dataclass(frozen=True)
class Principal:
    """A signed-in member of hub staff."""

    username: str
    display_name: str
    role: Role
    areas: tuple[str, ...]
    services: tuple[str, ...] = ()
    """Services the user works for (service ids, or `service@site` offer ids), within their areas."""


def hash_password(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT).hex()


class UserStore(SqlStore):
    """Local accounts; passwords are never stored, only salted scrypt hashes."""

    STORE = "users"
    MIGRATIONS = MIGRATIONS

    def add(
        self,
        username: str,
        password: str,
        role: Role,
        areas: Sequence[str],
        display_name: str = "",
        *,
        services: Sequence[str] = (),
    ) -> Principal:
        """Create or replace an account; raises `HubnetError` for a short password or no area."""
        if len(password) < MIN_PASSWORD:
            raise HubnetError(f"a password needs at least {MIN_PASSWORD} characters")
        if not areas:
            raise HubnetError(
                f"give at least one hub area (an id of the county pack's, or {COUNTY_WIDE} for county-wide)"
            )
        salt = secrets.token_bytes(16)
        with self.transaction():
            self._run(
                "INSERT INTO hub_user (username, display_name, role, areas, salt, password_hash, active, "
                "created_at, services) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (username) DO UPDATE "
                "SET display_name = excluded.display_name, role = excluded.role, areas = excluded.areas, "
                "salt = excluded.salt, password_hash = excluded.password_hash, active = 1, "
                "services = excluded.services",
                (username, display_name or username, role.value, orjson.dumps(list(areas)).decode(),
                 salt.hex(), hash_password(password, salt), datetime.now(UTC).isoformat(),
                 orjson.dumps(list(services)).decode()),
            )  # fmt: skip
        return Principal(username, display_name or username, role, tuple(areas), tuple(services))

    def authenticate(self, username: str, password: str) -> Principal | None:
        """The principal when the password matches an active account; constant time either way."""
        row = self._one(
            f"SELECT {_COLUMNS}, salt, password_hash FROM hub_user WHERE username = ? AND active = 1",  # noqa: S608
            (username,),
        )
        salt = bytes.fromhex(row[5]) if row else b"\x00" * 16
        expected = row[6] if row else "0" * 64
        if not hmac.compare_digest(hash_password(password, salt), expected) or row is None:
            return None
        return _principal(row)

    def get(self, username: str) -> Principal | None:
        row = self._one(f"SELECT {_COLUMNS} FROM hub_user WHERE username = ? AND active = 1", (username,))  # noqa: S608
        return _principal(row) if row else None

    def list(self) -> list[Principal]:
        rows = self._all(f"SELECT {_COLUMNS} FROM hub_user WHERE active = 1 ORDER BY username")  # noqa: S608
        return [_principal(r) for r in rows]


def _principal(row: Sequence[Any]) -> Principal:
    return Principal(
        row[0], row[1], Role(row[2]), tuple(orjson.loads(row[3])), tuple(orjson.loads(row[4] or "[]"))
    )


def _words(value: Any) -> tuple[str, ...]:
    """A claim given as a list or as space-separated words."""
    if isinstance(value, str):
        value = value.split()
    return tuple(str(v) for v in value or ())


def principal_from_claims(
    claims: Mapping[str, Any],
    role_claim: str = "hubnet_role",
    areas_claim: str = "hubnet_areas",
    services_claim: str = "hubnet_services",
) -> Principal:
    """An OIDC ID token's claims (already verified by the provider's proxy) as a principal;
    raises `HubnetError` when the role or areas claim is missing or unknown. The services claim
    is optional: without it the user is assigned to no service."""
    try:
        role = Role(str(claims[role_claim]))
    except (KeyError, ValueError):
        raise HubnetError(f"the identity token has no known '{role_claim}' claim") from None
    areas = _words(claims.get(areas_claim))
    if not areas:
        raise HubnetError(f"the identity token has no '{areas_claim}' claim")
    username = str(claims.get("preferred_username") or claims.get("sub") or "")
    services = _words(claims.get(services_claim))
    return Principal(username, str(claims.get("name") or username), role, areas, services)
