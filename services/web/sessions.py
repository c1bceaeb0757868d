"""Signed session cookies and CSRF tokens with the standard library (hmac, SHA-256).

The cookie holds a small JSON payload (session id, user name, break-glass grants, expiry) and its
HMAC; a forged or expired cookie reads as no session. CSRF: each form carries a token derived from
the session id, so a page on another site cannot post on the user's behalf. The secret lives in
`<data dir>/web-secret` (created 0600 on first start) so sessions survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Any

import orjson

COOKIE = "hubnet_session"
SESSION_S = 8 * 3600
BREAK_GLASS_S = 30 * 60
"""A break-glass grant lasts half an hour; the user states a reason again after that."""


def load_secret(path: Path) -> bytes:
    """The signing secret at `path`, created on first use, readable by this user only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


class Signer:
    """Signs and reads session payloads."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def dump(self, session: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(orjson.dumps({**session, "exp": int(time.time()) + SESSION_S}))
        return f"{body.decode()}.{self._mac(body)}"

    def load(self, cookie: str | None) -> dict[str, Any]:
        """The session, or a fresh anonymous one when the cookie is absent, forged or expired."""
        if cookie and "." in cookie:
            body, mac = cookie.rsplit(".", 1)
            if hmac.compare_digest(self._mac(body.encode()), mac):
                try:
                    session: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(body.encode()))
                except ValueError:
                    session = {}
                if session.get("exp", 0) > time.time():
                    return session
        return {"sid": secrets.token_hex(16)}

    def csrf(self, session: dict[str, Any]) -> str:
        return self._mac(f"csrf:{session.get('sid', '')}".encode())

    def csrf_ok(self, session: dict[str, Any], token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(session), token or "")


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
