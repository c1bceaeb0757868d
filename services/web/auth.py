"""Who is asking: a session cookie (web pages), HTTP Basic (API clients with a local account), or
an OIDC identity asserted by a trusted reverse proxy (production).

With `trust_proxy=True` the proxy in front (for example oauth2-proxy after the county's OIDC
provider) must verify the ID token and pass its claims as headers: `X-Auth-Request-User`,
`X-Hubnet-Role`, `X-Hubnet-Areas` (space-separated hub-area ids of the county pack) and, for referral work,
`X-Hubnet-Services` (space-separated service ids or service@site offers). The headers count only
on connections from the proxies in HUBNET_TRUSTED_PROXIES, which `--trust-proxy` requires.

A session cookie names a user only while its server-side record is live (not signed out, not
past its absolute expiry, not idle); HTTP Basic goes through the sign-in guard (throttling,
lockout, audit), as the sign-in page does. The answer is worked out once per request.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from schemas.errors import HubnetError
from services.timeline.policy import Role
from services.timeline.users import Principal, UserStore, principal_from_claims
from services.web.proxy import ProxyTrust
from services.web.sessions import COOKIE, Signer
from services.web.signin import Door, Refusal, SignInGuard
from services.web.signin_store import LOCAL, OPENID, LiveSession, SignInStore

_UNSET = object()
NO_RECORD = LiveSession()
"""The record of a request that is not signed in (or not yet: a sign-in starts one)."""


@dataclass
class Authenticator:
    users: UserStore
    signer: Signer
    guard: SignInGuard
    sessions: SignInStore
    proxy: ProxyTrust
    trust_proxy: bool = False
    local_accounts: bool = True
    """False when staff sign in at the county's OpenID provider and break-glass local accounts are
    not turned on (HUBNET_OIDC_LOCAL_ACCOUNTS): no password sign-in, no HTTP Basic."""

    def principal(self, request: Request) -> Principal | None:
        """The signed-in user of this request, or None (worked out once per request)."""
        found = getattr(request.state, "principal", _UNSET)
        if found is _UNSET:
            found = self._principal(request)
            request.state.principal = found
        return found  # type: ignore[return-value]

    def forget(self, request: Request) -> None:
        """Sign-in or sign-out changed who this request is."""
        request.state.principal = _UNSET

    def _principal(self, request: Request) -> Principal | None:
        if self.trust_proxy and request.headers.get("x-auth-request-user") and self._from_proxy(request):
            claims = {
                "preferred_username": request.headers["x-auth-request-user"],
                "hubnet_role": request.headers.get("x-hubnet-role", ""),
                "hubnet_areas": request.headers.get("x-hubnet-areas", ""),
                "hubnet_services": request.headers.get("x-hubnet-services", ""),
            }
            try:
                return principal_from_claims(claims)
            except HubnetError:
                return None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            return self._basic(request, header[6:]) if self.local_accounts else None
        return self._from_session(request)

    def _from_session(self, request: Request) -> Principal | None:
        """The user this request's live session names."""
        username = self.session(request).get("user")
        if not username:
            return None
        record = self._record(request)
        if record.door == OPENID and record.openid is not None:
            return _from_oidc(str(username), record.openid)
        if record.door == LOCAL and self.local_accounts:
            return self.users.get(str(username))
        return None

    def _from_proxy(self, request: Request) -> bool:
        """Identity headers count only from a trusted proxy when HUBNET_TRUSTED_PROXIES names
        any (`hubnet serve api --trust-proxy` requires it); from anyone else they are ignored."""
        if not self.proxy.networks:
            return True  # an app built without proxies (tests) trusts its only caller
        return self.proxy.trusted(request.client.host if request.client else None)

    def _basic(self, request: Request, credentials: str) -> Principal | None:
        try:
            user, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        outcome = self.guard.attempt(user, password, self.proxy.client_address(request), "HTTP Basic")
        if isinstance(outcome, Refusal) and outcome.status == 429:
            raise HTTPException(429, outcome.message, headers={"Retry-After": str(outcome.retry_after_s)})
        return None if isinstance(outcome, Refusal) else outcome

    def session(self, request: Request) -> dict[str, Any]:
        """This request's session (read once from the cookie; changes are saved by the app). A
        signed-in session whose record has ended reads as a new anonymous one."""
        cached: dict[str, Any] | None = getattr(request.state, "session", None)
        if cached is None:
            cached = self.signer.load(request.cookies.get(COOKIE))
            user = cached.get("user")
            record = None
            if user:
                now, idle_s = time.time(), self.guard.rules.idle_s
                record = self.sessions.live(str(cached["sid"]), str(user), now, idle_s)
                if record is None:
                    cached = self.signer.fresh()
                    request.state.save_session = True  # replace the dead cookie
            request.state.session = cached
            request.state.session_record = record or NO_RECORD
        return cached

    def _record(self, request: Request) -> LiveSession:
        """This request's live session record (NO_RECORD when anonymous)."""
        self.session(request)
        record: LiveSession = request.state.session_record
        return record

    def start_session(
        self, request: Request, who: Principal, door: Door, id_token: str | None = None
    ) -> None:
        """Sign-in (audited): a new session id (never the anonymous one, against fixation) with
        its record. An OpenID sign-in (`id_token` given) keeps the mapped grants in the record,
        since the user has no local account, with the token as the provider's logout hint; the
        cookie names only the session and the user."""
        state = self.session(request)
        state.clear()
        state.update(self.signer.fresh())
        state["user"] = who.username
        openid = None
        if id_token is not None:
            openid = {
                "name": who.display_name, "role": who.role.value, "areas": list(who.areas),
                "services": list(who.services), "id_token": id_token,
            }  # fmt: skip
        state["exp"] = math.ceil(
            self.sessions.start(
                str(state["sid"]), who.username, time.time(), self.guard.rules.absolute_s, openid
            )
        )
        request.state.save_session = True
        request.state.session_record = LiveSession(LOCAL if openid is None else OPENID, openid)
        self.forget(request)
        self.guard.signed_in(who, door, self.proxy.client_address(request))

    def end_session(self, request: Request) -> str | None:
        """Sign-out (audited): the record ends (the old cookie opens nothing, on any replica).
        Returns the OpenID sign-in's ID token, the hint for ending the provider's session too."""
        state = self.session(request)
        who = self._from_session(request)
        openid = self._record(request).openid
        username = state.get("user")
        if username:
            self.sessions.end(str(state["sid"]), time.time())
            address = self.proxy.client_address(request)
            self.guard.signed_out(str(username), who.role if who else None, address)
        state.clear()
        state.update(self.signer.fresh())
        request.state.save_session = True
        request.state.session_record = NO_RECORD
        self.forget(request)
        token = openid.get("id_token") if openid is not None else None
        return str(token) if token else None


def _from_oidc(username: str, grants: Mapping[str, Any]) -> Principal | None:
    """The principal an OpenID sign-in mapped, as its session record holds it."""
    try:
        role = Role(str(grants.get("role")))
    except ValueError:
        return None
    areas = tuple(str(a) for a in grants.get("areas") or ())
    services = tuple(str(s) for s in grants.get("services") or ())
    return Principal(username, str(grants.get("name") or username), role, areas, services) if areas else None
