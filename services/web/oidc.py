"""Staff sign-in at the county's OpenID provider (Entra ID, CIS2, any certified provider): the
authorization code flow with PKCE (S256), state and nonce, and RP-initiated logout.

Why each piece: `state` ties the callback to the browser that started the sign-in (login CSRF),
PKCE ties the code to it (a stolen code is worthless), `nonce` ties the ID token to this sign-in
(a replayed token is refused). The ID token is believed only after its signature verifies against
the provider's published keys (JWKS) and its issuer, audience, expiry and nonce are this sign-in's;
what the user may do then comes from the county's claim map (services/web/claim_map.py). When the
map says `userinfo = true` (NHS CIS2, whose RBAC roles are given only there), the provider's
UserInfo endpoint is asked too, with the access token; its answer counts only for the ID token's
own subject (OpenID Connect Core 5.3.4), and the ID token's claims win where both name one.
Endpoints come from the provider's discovery document, fetched once.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from schemas.errors import ConfigurationError
from services.core.settings import Settings
from services.web.claim_map import ClaimMap

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
OPTIONS: Any = {"require": ["exp", "iat", "iss", "aud", "sub"], "verify_exp": False, "verify_iat": False}
"""Expiry is checked against this server's clock (`OidcClient.clock`) with LEEWAY_S."""
LEEWAY_S = 30
"""Clock skew allowed between the provider and this server on exp and iat."""


class SignInError(Exception):
    """The sign-in cannot be trusted; the message is for the user (never token contents).
    `subject` is the verified ID token's subject when the refusal came after it verified (a
    UserInfo answer missing or for someone else), so the audit names who was refused."""

    def __init__(self, message: str, subject: str | None = None) -> None:
        super().__init__(message)
        self.subject = subject


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    redirect_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        if not settings.oidc_issuer:
            return None
        secret = settings.oidc_client_secret
        return cls(
            settings.oidc_issuer.rstrip("/"), str(settings.oidc_client_id),
            secret.get_secret_value() if secret else None, settings.oidc_scopes,
            str(settings.oidc_redirect_url),
        )  # fmt: skip


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class OidcClient:
    config: OidcConfig
    claim_map: ClaimMap
    clock: Callable[[], float] = time.time
    _discovery: dict[str, Any] | None = field(default=None, repr=False)
    _keys: jwt.PyJWKClient | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcClient | None:
        config = OidcConfig.from_settings(settings)
        if config is None or settings.oidc_claim_map is None:
            return None
        return cls(config, ClaimMap.load(settings.oidc_claim_map))

    def discovery(self) -> dict[str, Any]:
        """The provider's metadata (/.well-known/openid-configuration), fetched once."""
        if self._discovery is None:
            url = f"{self.config.issuer}/.well-known/openid-configuration"
            try:
                response = httpx.get(url, timeout=10)
                response.raise_for_status()
                found = response.json()
            except (httpx.HTTPError, ValueError) as error:
                raise ConfigurationError(f"HUBNET_OIDC_ISSUER: cannot read {url} ({error})") from None
            if found.get("issuer", "").rstrip("/") != self.config.issuer:
                raise ConfigurationError(f"HUBNET_OIDC_ISSUER: {url} names issuer {found.get('issuer')!r}")
            self._discovery = found
        return self._discovery

    def begin(self, pending: dict[str, Any]) -> str:
        """The provider's authorization URL; `pending` (the session) keeps state, nonce and verifier."""
        verifier = secrets.token_urlsafe(48)
        pending.update(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24), verifier=verifier)
        query = {
            "response_type": "code", "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_url,
            "scope": self.config.scopes, "state": pending["state"], "nonce": pending["nonce"],
            "code_challenge": _s256(verifier), "code_challenge_method": "S256",
        }  # fmt: skip
        return f"{self.discovery()['authorization_endpoint']}?{urlencode(query)}"

    def finish(self, pending: Mapping[str, Any], code: str, state: str) -> tuple[dict[str, Any], str]:
        """The callback: the code exchanged (with the PKCE verifier) for a verified ID token's claims
        (with the UserInfo claims when the claim map reads them) and the raw token (kept for the
        logout hint)."""
        if not pending.get("state") or not secrets.compare_digest(str(pending["state"]), state):
            raise SignInError("This sign-in link has expired or was not started here. Sign in again.")
        auth = (self.config.client_id, self.config.client_secret) if self.config.client_secret else None
        form = {
            "grant_type": "authorization_code", "code": code, "redirect_uri": self.config.redirect_url,
            "code_verifier": str(pending["verifier"]),
        }  # fmt: skip
        if auth is None:
            form["client_id"] = self.config.client_id
        try:
            response = httpx.post(self.discovery()["token_endpoint"], data=form, auth=auth, timeout=10)
            tokens = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            tokens = {}
        token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(token, str):
            raise SignInError(
                "Your organisation's sign-in service did not confirm this sign-in. Sign in again."
            )
        claims = self.verify(token, str(pending["nonce"]))
        if self.claim_map.userinfo:
            claims = {**self.userinfo(tokens.get("access_token"), str(claims["sub"])), **claims}
        return claims, token

    def userinfo(self, access_token: Any, subject: str) -> dict[str, Any]:
        """The UserInfo endpoint's claims about `subject`, asked with the sign-in's access token."""
        endpoint = self.discovery().get("userinfo_endpoint")
        if not endpoint:
            raise SignInError(
                "Your organisation's sign-in service offers no user details (UserInfo), which hubnet's "
                "county settings read. Tell your Family Hub administrator.",
                subject,
            )
        found: Any = None
        if isinstance(access_token, str) and access_token:
            try:
                response = httpx.get(
                    endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=10
                )
                found = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                found = None
        if not isinstance(found, dict):
            raise SignInError(
                "Your organisation's sign-in service did not give your role details. Sign in again; if "
                "this keeps happening, tell your Family Hub administrator.",
                subject,
            )
        if found.get("sub") != subject:
            raise SignInError(
                "Your organisation's sign-in service gave details of another account. Sign in again.",
                subject,
            )
        return found

    def verify(self, token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims once signature, iss, aud, exp, iat and nonce all hold."""
        try:
            if self._keys is None:
                self._keys = jwt.PyJWKClient(self.discovery()["jwks_uri"], cache_keys=True)
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=ALGORITHMS, audience=self.config.client_id,
                issuer=self.config.issuer, options=OPTIONS,
            )  # fmt: skip
        except jwt.PyJWTError:
            raise SignInError("The identity token could not be verified. Sign in again.") from None
        if float(claims["exp"]) + LEEWAY_S <= self.clock():
            raise SignInError("The identity token has expired. Sign in again.")
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInError("The identity token was not issued for this sign-in. Sign in again.")
        return claims

    def logout_url(self, id_token: str | None, post_logout: str) -> str | None:
        """Where to end the provider's session too (RP-initiated logout), or None if it has none."""
        endpoint = self.discovery().get("end_session_endpoint")
        if not endpoint:
            return None
        query = {"client_id": self.config.client_id, "post_logout_redirect_uri": post_logout}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(query)}"
