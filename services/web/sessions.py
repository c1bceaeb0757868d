"""Signed session cookies and CSRF tokens with the standard library (hmac, SHA-256).

The cookie holds a small JSON payload (session id, user name, break-glass grants, expiry) and its
HMAC; a forged, malformed or expired cookie reads as no session, never as an error. The expiry is
set once, when the session starts, and re-signing a changed session keeps it: a session never
slides past its absolute lifetime. A signed-in session is also held to its server-side record
(services/web/signin_store.py), which sign-out and the idle timeout end.

The key comes from the settings (`HUBNET_SESSION_SECRET`, the same on every API replica), never
from a file in the data dir, where a connector or a file drop could read it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from typing import Any

import orjson

from schemas.errors import ConfigurationError
from services.core.settings import Settings

COOKIE = "hubnet_session"
SESSION_S = 8 * 3600
BREAK_GLASS_S = 30 * 60
"""A break-glass grant lasts half an hour; the user states a reason again after that."""


def session_secret(settings: Settings) -> bytes:
    """The signing key from the settings. Unset, the embedded demo gets a key for this run (its
    sessions end with the process); a production profile refuses to start instead, because
    replicas with keys of their own reject each other's sessions."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    if settings.production:
        raise ConfigurationError(
            "HUBNET_SESSION_SECRET is not set. With KAFKA_BOOTSTRAP_SERVERS or HUBNET_DATABASE_URL set "
            "(production), every API replica must sign sessions with the same secret: put one of at "
            "least 32 characters in a Secret (deploy/k8s: hubnet-web-session) and pass it as "
            "HUBNET_SESSION_SECRET (generate: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return secrets.token_bytes(32)


def _bytes(text: str) -> bytes:
    """Cookie and form text as bytes; any character encodes, so a comparison never raises."""
    return text.encode("utf-8", "surrogatepass")


class Signer:
    """Signs and reads session payloads; `lifetime_s` is a new session's absolute lifetime."""

    def __init__(self, secret: bytes, lifetime_s: float = SESSION_S) -> None:
        self._secret = secret
        self.lifetime_s = lifetime_s

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest().encode()

    def fresh(self) -> dict[str, Any]:
        """A new anonymous session: a random id and its absolute expiry."""
        return {"sid": secrets.token_hex(16), "exp": math.ceil(time.time() + self.lifetime_s)}

    def dump(self, session: dict[str, Any]) -> str:
        """The cookie value; the session's expiry is kept as it was set when it started."""
        payload = {**session, "exp": math.ceil(session.get("exp") or time.time() + self.lifetime_s)}
        body = base64.urlsafe_b64encode(orjson.dumps(payload))
        return f"{body.decode()}.{self._mac(body).decode()}"

    def load(self, cookie: str | None) -> dict[str, Any]:
        """The session, or a fresh anonymous one when the cookie is absent, forged or expired."""
        body, _, mac = (cookie or "").rpartition(".")
        if body and hmac.compare_digest(self._mac(_bytes(body)), _bytes(mac)):
            try:
                session = orjson.loads(base64.urlsafe_b64decode(_bytes(body)))
            except ValueError:
                session = None
            if isinstance(session, dict) and session.get("sid") and session.get("exp", 0) > time.time():
                return session
        return self.fresh()

    def csrf(self, session: dict[str, Any]) -> str:
        return self._mac(f"csrf:{session.get('sid', '')}".encode()).decode()

    def csrf_ok(self, session: dict[str, Any], token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(_bytes(self.csrf(session)), _bytes(token or ""))

    def remaining_s(self, session: dict[str, Any]) -> int:
        """Seconds until the session's absolute expiry (the cookie's max-age)."""
        return max(0, math.ceil(float(session.get("exp", 0)) - time.time()))


def glass_reason(session: dict[str, Any], targets: list[str]) -> str | None:
    """The stated reason of a live break-glass grant on any of `targets`, else None."""
    grants: dict[str, list[Any]] = session.get("glass") or {}
    now = time.time()
    for target in targets:
        reason, until = grants.get(target, [None, 0])
        if reason and until > now:
            return str(reason)
    return None


def grant_glass(session: dict[str, Any], target: str, reason: str) -> None:
    grants: dict[str, list[Any]] = dict(session.get("glass") or {})
    grants[target] = [reason, int(time.time()) + BREAK_GLASS_S]
    session["glass"] = grants
