"""A staff API server signing in at the real OpenID provider (tests/security/oidc_provider.py), and
an HTTP client that follows the redirects and posts the provider's login and consent forms as a
browser does; what the browser's cookie and the server-side session record then hold."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from schemas.audit import AuditRecord
from schemas.topics import AUDIT
from services.core.broker import free_port
from services.web.claim_map import ClaimMap
from services.web.oidc import OidcClient, OidcConfig
from services.web.signin_store import SignInStore
from tests.security.oidc_provider import Provider, openid_provider
from tests.security.staff_servers import County, make_county, replica

COOKIE = "hubnet_session"


@dataclass
class World:
    county: County
    base: str
    provider: Provider
    oidc: OidcClient


def staff_app_provider(accounts: Mapping[str, Mapping[str, Any]]) -> Iterator[tuple[str, Provider]]:
    """One provider for a test module (Node starts slowly) knowing `accounts`, registered for one
    staff app address that each test's own server takes in turn; yields that address and it."""
    base = f"http://127.0.0.1:{free_port()}"
    with openid_provider(f"{base}/sign-in/oidc/callback", f"{base}/sign-in", accounts) as running:
        yield base, running


def oidc_world(
    tmp_path: Path,
    provider: tuple[str, Provider],
    claim_map: str | Path,
    scopes: str,
    *,
    county: County | None = None,
    **options: Any,
) -> Iterator[World]:
    """A staff server on the address the provider knows, signing in with `claim_map` (TOML text, or
    the file HUBNET_OIDC_CLAIM_MAP would name, such as a pack's county.toml) and `scopes`, over
    `county` (default: the session tests' three families); `options` go to `create_app` (e.g.
    `local_accounts`)."""
    base, running = provider
    config = OidcConfig(
        running.issuer, running.client_id, running.client_secret, scopes, f"{base}/sign-in/oidc/callback"
    )
    if isinstance(claim_map, str):
        (tmp_path / "claim-map.toml").write_text(claim_map, encoding="utf-8")
        claim_map = tmp_path / "claim-map.toml"
    oidc = OidcClient(config, ClaimMap.load(claim_map))
    county = county or make_county(tmp_path)
    with replica(county, port=int(base.rpartition(":")[2]), oidc=oidc, **options):
        yield World(county, base, running, oidc)


def browser(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=15, follow_redirects=True)


def submit(client: httpx.Client, page: httpx.Response, **fields: str) -> httpx.Response:
    """Post the page's first form with its hidden fields and `fields`, as a browser does."""
    form = re.search(r"<form[^>]*>", page.text)
    assert form, f"no form on {page.url}: {page.text[:300]}"
    action = re.search(r'action="([^"]*)"', form.group(0))
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    target = urljoin(str(page.url), unescape(action.group(1)) if action else str(page.url))
    return client.post(target, data={**hidden, **fields})


def sign_in_at_provider(client: httpx.Client, login: str, next_: str = "/") -> httpx.Response:
    """Start at hubnet, sign in and consent at the provider, and land back where hubnet sends us."""
    page = client.get("/sign-in/oidc", params={"next": next_})
    assert 'name="login"' in page.text, f"expected the provider's login form, got {page.url}"
    page = submit(client, page, login=login, password="any")
    if 'name="prompt" value="consent"' in page.text:
        page = submit(client, page)
    return page


def cookie_payload(client: httpx.Client) -> dict[str, Any]:
    """The session cookie's payload as the browser holds it (signed by hubnet, not encrypted)."""
    body = client.cookies[COOKIE].rpartition(".")[0]
    payload: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(body))
    return payload


def server_record(world: World, client: httpx.Client) -> dict[str, Any]:
    """The OpenID grants and token the server-side session record keeps for the browser's cookie."""
    payload = cookie_payload(client)
    signins = SignInStore.open(world.county.users)
    try:
        record = signins.live(payload["sid"], payload["user"], time.time(), idle_s=600)
    finally:
        signins.close()
    assert record is not None, "no live session record"
    assert record.openid is not None, "not an OpenID session"
    return dict(record.openid)


def world_user(world: World, client: httpx.Client) -> dict[str, Any]:
    """Who the session is: the user the cookie names, with the grants its record holds."""
    grants = server_record(world, client)
    return {"user": cookie_payload(client)["user"], "role": grants["role"], "areas": grants["areas"],
            "services": grants["services"]}  # fmt: skip


def sign_in_audit(county: County) -> list[AuditRecord]:
    """The `staff.sign-in` records the server published on fh.audit."""
    records = [AuditRecord.from_bytes(m.value) for m in county.published.on(AUDIT)]
    return [r for r in records if r.action == "staff.sign-in"]
