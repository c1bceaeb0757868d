"""Who is asking: a session cookie (web pages), HTTP Basic (API clients with a local account), or
an OIDC identity asserted by a trusted reverse proxy (production).

With `trust_proxy=True` the proxy in front (for example oauth2-proxy after the county's OIDC
provider) must verify the ID token and pass its claims as headers: `X-Auth-Request-User`,
`X-Hubnet-Role`, `X-Hubnet-Areas` (space-separated district codes) and, for referral work,
`X-Hubnet-Services` (space-separated service ids or service@site offers). Never enable it when clients
can reach hubnet without that proxy.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from schemas.errors import HubnetError
from services.timeline.users import Principal, UserStore, principal_from_claims
from services.web.sessions import COOKIE, Signer


@dataclass
class Authenticator:
    users: UserStore
    signer: Signer
    trust_proxy: bool = False

    def principal(self, request: Request) -> Principal | None:
        """The signed-in user of this request, or None."""
        if self.trust_proxy and request.headers.get("x-auth-request-user"):
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
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self.users.authenticate(user, password)
        session = self.session(request)
        username = session.get("user")
        return self.users.get(str(username)) if username else None

    def session(self, request: Request) -> dict[str, Any]:
        """This request's session (read once from the cookie; changes are saved by the app)."""
        cached: dict[str, Any] | None = getattr(request.state, "session", None)
        if cached is None:
            cached = self.signer.load(request.cookies.get(COOKIE))
            request.state.session = cached
        return cached
