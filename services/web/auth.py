"""Who is asking: a session cookie (web pages), HTTP Basic (API clients with a local account), or
an OIDC identity asserted by a trusted reverse proxy (production).

With `trust_proxy=True` the proxy in front (for example oauth2-proxy after the county's OIDC
provider) must verify the ID token and pass its claims as headers: `X-Auth-Request-User`,
`X-Hubnet-Role`, `X-Hubnet-Areas` (space-separated district codes) and, for referral work,
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
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from schemas.errors import HubnetError
from services.timeline.policy import Role
from services.timeline.users import Principal, UserStore, principal_from_claims
from services.web.proxy import ProxyTrust
from services.web.sessions import COOKIE, Signer
from services.web.signin import Refusal, SignInGuard
from services.web.signin_store import SignInStore

_UNSET = object()


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
        session = self.session(request)
        username = session.get("user")
        if not username:
            return None
        if isinstance(session.get("oidc"), dict):
            return _from_oidc(str(username), session["oidc"])
        return self.users.get(str(username)) if self.local_accounts else None

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
            if user and not self.sessions.live(
                str(cached["sid"]), str(user), time.time(), self.guard.rules.idle_s
            ):
                cached = self.signer.fresh()
                request.state.save_session = True  # replace the dead cookie
            request.state.session = cached
        return cached

    def start_session(self, request: Request, who: Principal, id_token: str | None = None) -> None:
        """Sign-in: a new session id (never the anonymous one, against fixation) with its record.
        An OpenID sign-in (`id_token` given) keeps the mapped grants in the signed session, since
        the user has no local account, and the token as the provider's logout hint."""
        state = self.session(request)
        state.clear()
        state.update(self.signer.fresh())
        state["user"] = who.username
        if id_token is not None:
            state["oidc"] = {
                "name": who.display_name, "role": who.role.value, "areas": list(who.areas),
                "services": list(who.services), "id_token": id_token,
            }  # fmt: skip
        state["exp"] = math.ceil(
            self.sessions.start(str(state["sid"]), who.username, time.time(), self.guard.rules.absolute_s)
        )
        request.state.save_session = True
        self.forget(request)

    def end_session(self, request: Request) -> str | None:
        """Sign-out: the record ends (the old cookie opens nothing, on any replica). Returns the
        OpenID sign-in's ID token, the hint for ending the provider's session too."""
        state = self.session(request)
        oidc = state.get("oidc")
        if state.get("user"):
            self.sessions.end(str(state["sid"]), time.time())
        state.clear()
        state.update(self.signer.fresh())
        request.state.save_session = True
        self.forget(request)
        return str(oidc["id_token"]) if isinstance(oidc, dict) and oidc.get("id_token") else None


def _from_oidc(username: str, grants: dict[str, Any]) -> Principal | None:
    """The principal an OpenID sign-in mapped, as the signed session holds it."""
    try:
        role = Role(str(grants.get("role")))
    except ValueError:
        return None
    areas = tuple(str(a) for a in grants.get("areas") or ())
    services = tuple(str(s) for s in grants.get("services") or ())
    return Principal(username, str(grants.get("name") or username), role, areas, services) if areas else None
