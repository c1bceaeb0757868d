"""Staff sign-in at a real OpenID provider (issue #22 part 2): the certified Node.js
`oidc-provider` on loopback (tests/security/oidc_provider.py), a real staff API server, and an
HTTP client that follows the redirects and posts the provider's login, consent and logout forms
as a browser does. Sign-in runs the authorization code flow with PKCE, state and nonce; the
county's claim map decides role, hub areas and services; a user it does not map is refused with
a page saying so; an expired, tampered or foreign-signed ID token is refused; signing out ends
hubnet's session and the provider's; password sign-in is off unless turned back on."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from schemas.audit import AuditRecord
from schemas.topics import AUDIT
from services.timeline.policy import Role
from services.web.oidc import SignInError
from tests.security.oidc_provider import Provider
from tests.security.oidc_signins import (
    COOKIE,
    World,
    browser,
    cookie_payload,
    oidc_world,
    server_record,
    sign_in_at_provider,
    sign_in_audit,
    staff_app_provider,
    submit,
    world_user,
)
from tests.security.staff_servers import csrf_of, sign_in, sign_out
from tests.unit.timeline.events import CHELMSFORD, TENDRING
from tests.unit.timeline.world import PASSWORD

pytestmark = pytest.mark.security
ACCOUNTS = {
    # an Entra ID style member of a hub security group
    "nina": {"name": "Nina Hale", "preferred_username": "nina@county.example", "groups": ["sg-hub-tendring"]},
    # a CIS2 style health visitor: role code and ODS organisation code
    "hari": {"name": "Hari Patel", "preferred_username": "hari@nhs.example", "roles": ["R8001"],
             "org_code": "RDE"},
    # recognised by the provider, in no group the county maps
    "omar": {"name": "Omar Said", "preferred_username": "omar@county.example", "groups": ["sg-finance"]},
}  # fmt: skip
CLAIM_MAP = f"""
[[rule]]
claim = "groups"
value = "sg-hub-tendring"
role = "hub-practitioner"
areas = ["{TENDRING}"]
services = ["family-support"]

[[rule]]
claim = "roles"
value = "R8001"
role = "health-visitor"

[[rule]]
claim = "org_code"
value = "RDE"
areas = ["{CHELMSFORD}"]
services = ["health-visiting"]
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[str, Provider]]:
    yield from staff_app_provider(ACCOUNTS)


@pytest.fixture
def world(tmp_path: Path, provider: tuple[str, Provider]) -> Iterator[World]:
    yield from _world(tmp_path, provider, local_accounts=False)


def _world(tmp_path: Path, provider: tuple[str, Provider], **options: Any) -> Iterator[World]:
    yield from oidc_world(tmp_path, provider, CLAIM_MAP, "openid profile hubnet", **options)


def test_sign_in_at_the_provider_maps_a_group_to_role_areas_and_services(world: World) -> None:
    with browser(world.base) as client:
        landed = sign_in_at_provider(client, "nina", next_="/families/f1")
        assert landed.status_code == 200
        assert str(landed.url) == f"{world.base}/families/f1"
        assert client.get("/v1/families/f1").status_code == 200  # f1 is in Tendring, the group's area
        assert client.get("/v1/families/f3").status_code == 403  # f3 is in Chelmsford: not hers
        who = world_user(world, client)
        assert who == {"user": "nina@county.example", "role": "hub-practitioner", "areas": [TENDRING],
                       "services": ["family-support"]}  # fmt: skip


def test_a_cis2_role_code_and_ods_code_combine_into_one_role_with_the_organisations_area(
    world: World,
) -> None:
    with browser(world.base) as client:
        sign_in_at_provider(client, "hari")
        assert world_user(world, client) == {
            "user": "hari@nhs.example", "role": Role.HEALTH_VISITOR.value, "areas": [CHELMSFORD],
            "services": ["health-visiting"],
        }  # fmt: skip
        assert client.get("/v1/families/f3").status_code == 200
        assert client.get("/v1/families/f1").status_code == 403


def test_a_user_the_claim_map_does_not_map_is_refused_with_a_page_saying_why(world: World) -> None:
    with browser(world.base) as client:
        refused = sign_in_at_provider(client, "omar")
        assert refused.status_code == 403
        assert "You cannot sign in to hubnet" in refused.text
        assert "Ask your Family Hub administrator" in refused.text
        assert client.get("/v1/families/f1").status_code == 401
    records = sign_in_audit(world.county)
    assert [(r.outcome, r.actor) for r in records] == [("denied", "oidc:omar")]
    assert "sg-finance" not in (records[0].reason or "")  # the token's claims stay out of the audit


def test_a_callback_not_started_by_this_browser_is_refused(world: World) -> None:
    with browser(world.base) as client:
        refused = client.get("/sign-in/oidc/callback", params={"code": "stolen", "state": "guess"})
        assert refused.status_code == 401
        assert "was not started here" in refused.text


def test_a_provider_error_is_a_page_naming_only_its_error_code(world: World) -> None:
    with browser(world.base) as client:
        refused = client.get("/sign-in/oidc/callback", params={"error": "access_denied"})
        assert refused.status_code == 401
        assert "did not sign you in (access_denied)" in refused.text
        odd = client.get("/sign-in/oidc/callback", params={"error": "<script>x</script>"})
        assert "did not sign you in (error)" in odd.text
        assert "<script>x" not in odd.text


def test_the_browsers_cookie_holds_no_token_and_no_claims_only_the_session_and_user(world: World) -> None:
    with browser(world.base) as client:
        sign_in_at_provider(client, "nina")
        payload = cookie_payload(client)
        assert set(payload) == {"sid", "exp", "user"}
        assert payload["user"] == "nina@county.example"
        held = orjson.dumps(payload).decode()
        for claim in ("Nina Hale", "sg-hub-tendring", "hub-practitioner", TENDRING, "eyJ"):
            assert claim not in held  # no claim, no grant, no JWT (they all start eyJ)
        assert client.get("/v1/families/f1").status_code == 200  # the grants live server-side
        token = server_record(world, client)["id_token"]
        assert jwt.decode(token, options={"verify_signature": False})["sub"] == "nina"


def test_logout_ends_hubnet_session_and_the_provider_session(world: World) -> None:
    with browser(world.base) as client:
        sign_in_at_provider(client, "nina")
        old = client.cookies[COOKIE]
        token = server_record(world, client)["id_token"]
        confirm = sign_out(client)  # hubnet ends its session, then sends the browser to the provider
        assert str(confirm.url).startswith(f"{world.provider.issuer}/session/end")
        [to_provider] = [r for r in confirm.history if r.url.path == "/sign-out"]
        assert httpx.URL(to_provider.headers["location"]).params["id_token_hint"] == token
        back = submit(client, confirm, logout="yes")
        assert str(back.url).startswith(f"{world.base}/sign-in")
        assert httpx.get(f"{world.base}/v1/families/f1", cookies={COOKIE: old}).status_code == 401
        again = client.get("/sign-in/oidc")  # no single sign-on left at the provider: its login form again
        assert 'name="login"' in again.text


def test_an_openid_sign_in_and_its_sign_out_are_audited_with_nothing_from_the_token(world: World) -> None:
    with browser(world.base) as client:
        sign_in_at_provider(client, "nina")
        token = server_record(world, client)["id_token"]
        sign_out(client)
    records = [AuditRecord.from_bytes(m.value) for m in world.county.published.on(AUDIT)]
    ours = [r for r in records if r.action in ("staff.sign-in", "staff.sign-out")]
    assert [(r.action, r.outcome, r.actor, r.actor_role, r.target) for r in ours] == [
        ("staff.sign-in", "allowed", "nina@county.example", "hub-practitioner", "nina@county.example"),
        ("staff.sign-out", "allowed", "nina@county.example", "hub-practitioner", "nina@county.example"),
    ]
    assert ours[0].reason == "signed in (OpenID provider, client 127.0.0.1)"
    for record in ours:
        kept = record.model_dump_json()
        for claim in ("Nina Hale", "sg-hub-tendring", token):
            assert claim not in kept


def test_password_sign_in_and_http_basic_are_off_when_openid_is_configured(world: World) -> None:
    with browser(world.base) as client:
        page = client.get("/sign-in")
        assert "Sign in with your organisation account" in page.text
        assert 'name="password"' not in page.text
        sign_in_at_provider(client, "nina")  # a page with a form, so the post carries a valid CSRF token
        token = csrf_of(client.get("/").text)
        form = {"username": "hv", "password": PASSWORD, "csrf": token, "next": "/"}
        refused = client.post("/sign-in", data=form)
        assert refused.status_code == 403
        assert "password sign-in is turned off" in refused.text
    assert httpx.get(f"{world.base}/v1/families/f1", auth=("hv", PASSWORD)).status_code == 401


def test_local_accounts_come_back_for_break_glass_when_turned_on(
    tmp_path: Path, provider: tuple[str, Provider]
) -> None:
    for world in _world(tmp_path, provider, local_accounts=True):
        with browser(world.base) as client:
            assert 'name="password"' in client.get("/sign-in").text
            assert sign_in(client, "hv").status_code == 200  # followed to the home page
            assert client.get("/v1/families/f1").status_code == 200


# the ID token checks, with real tokens from the real provider


def provider_token(world: World, login: str = "nina") -> tuple[str, str]:
    """A real ID token for `login` and the nonce it was issued for: the code flow driven by hand."""
    pending: dict[str, Any] = {}
    with browser(world.base) as client:
        page = client.get(world.oidc.begin(pending))
        page = submit(client, page, login=login, password="any")
        if 'name="prompt" value="consent"' in page.text:
            page = submit(client, page)
        assert page.url.params["state"] == pending["state"]
        token = world.oidc.finish(pending, page.url.params["code"], pending["state"])[1]
    return token, str(pending["nonce"])


def test_a_real_token_verifies_and_an_expired_one_is_refused(world: World) -> None:
    token, nonce = provider_token(world)
    claims = world.oidc.verify(token, nonce)
    assert claims["sub"] == "nina"
    assert claims["aud"] == world.provider.client_id
    later = replace(world.oidc, clock=lambda: float(claims["exp"]) + 120)
    later._keys = world.oidc._keys
    with pytest.raises(SignInError, match="expired"):
        later.verify(token, nonce)


def test_a_tampered_token_a_foreign_key_and_a_replayed_nonce_are_refused(world: World) -> None:
    token, nonce = provider_token(world)
    header, payload, signature = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["groups"] = ["sg-hub-tendring", "sg-county-admins"]
    forged_body = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    with pytest.raises(SignInError, match="could not be verified"):
        world.oidc.verify(f"{header}.{forged_body}.{signature}", nonce)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(token)["kid"]
    foreign = jwt.encode(
        {**claims, "exp": time.time() + 300}, stranger, algorithm="RS256", headers={"kid": kid}
    )
    with pytest.raises(SignInError, match="could not be verified"):
        world.oidc.verify(foreign, nonce)
    with pytest.raises(SignInError, match="not issued for this sign-in"):
        world.oidc.verify(token, "another-sign-in")
