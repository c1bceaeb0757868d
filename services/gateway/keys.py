"""Partner API keys: random tokens shown once, stored only as salted SHA-256 hashes.

A key reads `hubnet_<key id>_<secret>`. The key id is public (it names the key in listings, audit
records and logs); the secret is 32 random bytes. Why SHA-256 and not scrypt: slow hashes exist to
protect low-entropy passwords from guessing; a 256-bit random secret cannot be guessed whichever
hash is used, and a fast hash keeps authentication cheap on every request. The per-key salt still
means two databases never share a hash, and comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "hubnet"
_SHAPE = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `token` is shown to the partner once; only `salt` and `digest` are stored."""

    key_id: str
    token: str
    salt: bytes
    digest: bytes


@dataclass(frozen=True)
class PresentedKey:
    """A key as a caller sent it, split into its public id and its secret."""

    key_id: str
    secret: str

    def matches(self, salt: bytes, digest: bytes) -> bool:
        return hmac.compare_digest(_digest(salt, self.secret), digest)


def issue() -> IssuedKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    return IssuedKey(key_id, f"{PREFIX}_{key_id}_{secret}", salt, _digest(salt, secret))


def parse(token: str) -> PresentedKey | None:
    """None when the text is not shaped like a hubnet key (so it cannot be one)."""
    match = _SHAPE.match(token.strip())
    return PresentedKey(match.group(1), match.group(2)) if match else None


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()
