"""The partner registry: who each partner organisation is, what it may publish, and its API keys.

A partner is named by a short code (the file-drop folder and `source_partner` on its events) and
by its organisation identifiers (ODS code, school URN, charity number). Keys are stored as hashes
only (see `keys`). Rotation issues a new key and lets the old ones work until an overlap expires;
revocation stops a key, or a whole partner, at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.errors import HubnetError
from services.gateway import keys
from services.gateway.database import Database, Row
from services.gateway.schema import MIGRATIONS

ANY = "*"
RESERVED_PREFIX = "hubnet"
"""No partner takes a code starting so: `hubnet-staff` is how staff-recorded consent is told apart."""


class PartnerError(HubnetError):
    """A partner registry command cannot be done (unknown partner, duplicate code)."""


def _normal_id(value: str) -> str:
    """Organisation identifiers compare without case or spaces (ODS codes, URNs, charity numbers)."""
    return re.sub(r"\s", "", value).upper()


class Partner(BaseModel):
    """One partner organisation and what it may publish; `*` in a list means any."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="Short code, e.g. nelft-hv.")
    name: str = Field(min_length=1)
    org_ids: tuple[str, ...] = Field(default=(), description="ODS code, URN or charity number(s).")
    sender_ids: tuple[str, ...] = Field(
        default=(), description="Other sender identifiers its messages may claim (sending facility, URN)."
    )
    formats: tuple[str, ...] = (ANY,)
    event_types: tuple[str, ...] = (ANY,)
    consent_for: tuple[str, ...] = Field(
        default=(),
        description="Partners whose sharing it may record a family's consent about ('*' any); none: it "
        "may not record consent (services/consent/rules.py).",
    )
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    revoked_at: datetime | None = None

    @field_validator("code")
    @classmethod
    def _not_reserved(cls, code: str) -> str:
        if code.startswith(RESERVED_PREFIX):
            raise ValueError(
                f"partner codes starting '{RESERVED_PREFIX}' are hubnet's own (hub staff records)"
            )
        return code

    @field_validator("org_ids", "sender_ids")
    @classmethod
    def _normalise(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_normal_id(v) for v in values if v.strip()))

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def may_use_format(self, fmt: str) -> bool:
        return ANY in self.formats or fmt in self.formats

    def may_publish(self, event_type: str) -> bool:
        return ANY in self.event_types or event_type in self.event_types

    def may_claim(self, sender: str) -> bool:
        """A message may name only this partner's own organisation or declared sender identifiers."""
        normal = _normal_id(sender)
        return normal in self.org_ids or normal in self.sender_ids


class KeyInfo(BaseModel):
    """A stored key without its hash: what listings and `/v1/partners/me` show."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    partner: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the partner and the key it used."""

    partner: Partner
    key: KeyInfo


class PartnerStore:
    """Repository of partners and key hashes (plain SQL; see `database`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate(MIGRATIONS)

    def add(self, partner: Partner) -> keys.IssuedKey:
        """Register a partner and issue its first key (shown once by the caller)."""
        if self.find(partner.code):
            raise PartnerError(f"partner '{partner.code}' already exists (rotate its key instead)")
        with self._db.transaction():
            self._db.execute(
                f"INSERT INTO partners ({_PARTNER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    partner.code, partner.name, _json(partner.org_ids), _json(partner.sender_ids),
                    _json(partner.formats), _json(partner.event_types), _iso(partner.created_at), None,
                    _json(partner.consent_for),
                ),
            )  # fmt: skip
            return self._issue(partner.code)

    def find(self, code: str) -> Partner | None:
        row = self._db.row(f"SELECT {_PARTNER_COLUMNS} FROM partners WHERE code = ?", (code,))  # noqa: S608
        return _partner(row) if row else None

    def get(self, code: str) -> Partner:
        partner = self.find(code)
        if partner is None:
            raise PartnerError(f"no partner '{code}' (see `hubnet partners list`)")
        return partner

    def all(self) -> list[Partner]:
        rows = self._db.rows(f"SELECT {_PARTNER_COLUMNS} FROM partners ORDER BY code")  # noqa: S608
        return [_partner(r) for r in rows]

    def keys_of(self, code: str) -> list[KeyInfo]:
        rows = self._db.rows(
            "SELECT key_id, partner, created_at, expires_at, revoked_at FROM api_keys "
            "WHERE partner = ? ORDER BY created_at",
            (code,),
        )
        return [_key(r) for r in rows]

    def rotate_key(self, code: str, overlap: timedelta) -> keys.IssuedKey:
        """Issue a new key; the partner's other usable keys keep working for `overlap`, then expire."""
        if not self.get(code).active:
            raise PartnerError(f"partner '{code}' is revoked; add it again under a new code")
        now = datetime.now(UTC)
        until = _iso(now + overlap)
        with self._db.transaction():
            self._db.execute(
                "UPDATE api_keys SET expires_at = ? WHERE partner = ? AND revoked_at IS NULL "
                "AND (expires_at IS NULL OR expires_at > ?)",
                (until, code, until),
            )
            return self._issue(code)

    def revoke(self, code: str, key_id: str | None = None) -> int:
        """Revoke one key, or the partner and all its keys; returns how many keys stopped working."""
        self.get(code)
        now = _iso(datetime.now(UTC))
        with self._db.transaction():
            if key_id is None:
                self._db.execute("UPDATE partners SET revoked_at = ? WHERE code = ?", (now, code))
                return self._db.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE partner = ? AND revoked_at IS NULL", (now, code)
                )
            changed = self._db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE partner = ? AND key_id = ? AND revoked_at IS NULL",
                (now, code, key_id),
            )
        if not changed:
            raise PartnerError(f"partner '{code}' has no usable key '{key_id}'")
        return changed

    def authenticate(self, token: str) -> Principal | None:
        """The partner a key belongs to, if the key is genuine, unexpired and unrevoked."""
        presented = keys.parse(token)
        if presented is None:
            return None
        row = self._db.row(
            "SELECT key_id, partner, created_at, expires_at, revoked_at, salt, digest FROM api_keys "
            "WHERE key_id = ?",
            (presented.key_id,),
        )
        if row is None or not presented.matches(row[5], row[6]):
            return None
        info = _key(row[:5])
        partner = self.find(info.partner)
        if partner is None or not partner.active or not info.usable(datetime.now(UTC)):
            return None
        return Principal(partner, info)

    def _issue(self, code: str) -> keys.IssuedKey:
        issued = keys.issue()
        self._db.execute(
            "INSERT INTO api_keys (key_id, partner, salt, digest, created_at) VALUES (?, ?, ?, ?, ?)",
            (issued.key_id, code, issued.salt, issued.digest, _iso(datetime.now(UTC))),
        )
        return issued


_PARTNER_COLUMNS = (
    "code, name, org_ids, sender_ids, formats, event_types, created_at, revoked_at, consent_for"
)


def _json(values: tuple[str, ...]) -> str:
    return orjson.dumps(list(values)).decode()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")  # fixed width: sorts as text


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _partner(row: Row) -> Partner:
    code, name, org_ids, sender_ids, formats, event_types, created_at, revoked_at, consent_for = row
    return Partner(
        code=code, name=name, org_ids=orjson.loads(org_ids), sender_ids=orjson.loads(sender_ids),
        formats=orjson.loads(formats), event_types=orjson.loads(event_types),
        consent_for=orjson.loads(consent_for), created_at=datetime.fromisoformat(created_at),
        revoked_at=_time(revoked_at),
    )  # fmt: skip


def _key(row: Row) -> KeyInfo:
    key_id, partner, created_at, expires_at, revoked_at = row
    return KeyInfo(
        key_id=key_id, partner=partner, created_at=datetime.fromisoformat(created_at),
        expires_at=_time(expires_at), revoked_at=_time(revoked_at),
    )  # fmt: skip
