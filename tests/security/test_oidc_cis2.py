"""NHS CIS2 sign-in against a real OpenID provider (issue #22): the certified `oidc-provider`
(tests/security/oidc_provider.py) set up as CIS2 is, giving each person's national RBAC roles
(`nhsid_nrbac_roles`) only from its UserInfo endpoint and the role they selected
(`selected_roleid`) in the ID token. With `userinfo = true` and `national_rbac = true` in the
county's `[sign_in]`, hubnet asks UserInfo with the access token and maps the selected role's
role code and ODS code; a role the person holds but did not select counts for nothing; a selected
role the map does not grant, a selection the person does not hold, or no selection, is refused with
a page saying so; a UserInfo endpoint that does not answer, or answers for another account, gives
a sign-in page, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from services.core.broker import free_port
from tests.e2e.serving import served
from tests.security.oidc_provider import Provider
from tests.security.oidc_signins import (
    World,
    browser,
    oidc_world,
    server_record,
    sign_in_at_provider,
    sign_in_audit,
    staff_app_provider,
    world_user,
)
from tests.unit.timeline.events import CHELMSFORD

pytestmark = pytest.mark.security
SCOPES = "openid profile nhsperson nationalrbacaccess selectedrole"
NURSE, ADMIN = "S8000:G8000:R8001", "S8001:G8005:R8008"  # job role codes R8001 and R8008
TRUST, ELSEWHERE = "RDE", "RYX"  # ODS codes: the county's community health trust, another trust


def role(roleid: str, code: str, org: str) -> dict[str, Any]:
    """One entry of `nhsid_nrbac_roles`, with the fields NHS England's CIS2 guidance lists."""
    return {
        "person_orgid": "555000000001", "person_roleid": roleid, "org_code": org, "role_code": code,
        "role_name": '"Clinical":"Clinical Provision":"Nurse Access Role"',
        "activity_codes": ["B0360", "B0264"],
    }  # fmt: skip


def person(uid: str, selected: str | None, *roles: dict[str, Any]) -> dict[str, Any]:
    """A CIS2 account: ID token claims, and the roles only UserInfo gives."""
    claims: dict[str, Any] = {"name": f"Person {uid}", "nhsid_useruid": uid}
    if selected is not None:
        claims["selected_roleid"] = selected
    return {**claims, "userinfo_only": {"nhsid_nrbac_roles": list(roles)}}


ACCOUNTS = {
    # a health visitor at the trust, who also holds a role elsewhere
    "cara": person("555000000101", "101-hv", role("101-hv", NURSE, TRUST), role("101-x", NURSE, ELSEWHERE)),
    # holds the mapped nurse role at the trust, but selected the admin role today
    "cody": person("555000000102", "102-ad", role("102-hv", NURSE, TRUST), role("102-ad", ADMIN, TRUST)),
    # selected the nurse role held at another trust: a role, but no hub area
    "cass": person("555000000103", "103-x", role("103-x", NURSE, ELSEWHERE), role("103-hv", NURSE, TRUST)),
    # the ID token names a role the person does not hold
    "cleo": person("555000000104", "999-not-hers", role("104-hv", NURSE, TRUST)),
    # no role selected at all (the `selectedrole` scope was not asked for, or no role chosen)
    "ciro": person("555000000105", None, role("105-hv", NURSE, TRUST)),
}  # fmt: skip
CLAIM_MAP = f"""
userinfo = true
national_rbac = true

[identity]
username_claim = "nhsid_useruid"

[[rule]]
claim = "selected_role.role_code"
value = "R8001"
role = "health-visitor"

[[rule]]
claim = "selected_role.org_code"
value = "{TRUST}"
areas = ["{CHELMSFORD}"]
services = ["health-visiting"]
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[str, Provider]]:
    yield from staff_app_provider(ACCOUNTS)


@pytest.fixture
def world(tmp_path: Path, provider: tuple[str, Provider]) -> Iterator[World]:
    yield from oidc_world(tmp_path, provider, CLAIM_MAP, SCOPES)


def test_the_selected_roles_code_and_ods_code_from_userinfo_give_role_area_and_service(world: World) -> None:
    with browser(world.base) as client:
        landed = sign_in_at_provider(client, "cara", next_="/families/f3")
        assert str(landed.url) == f"{world.base}/families/f3"
        assert world_user(world, client) == {
            "user": "555000000101", "role": "health-visitor", "areas": [CHELMSFORD],
            "services": ["health-visiting"],
        }  # fmt: skip
        assert client.get("/v1/families/f3").status_code == 200  # Chelmsford: the trust's area
        assert client.get("/v1/families/f1").status_code == 403  # Tendring: not hers
        token = jwt.decode(server_record(world, client)["id_token"], options={"verify_signature": False})
    assert token["selected_roleid"] == "101-hv"
    assert "nhsid_nrbac_roles" not in token  # the roles came from UserInfo, asked with the access token


@pytest.mark.parametrize(
    ("login", "says"),
    [
        ("cody", "The role you selected is recognised by your organisation, but hubnet's county "
                 "settings give it a role"),
        ("cass", "The role you selected is recognised by your organisation, but hubnet's county "
                 "settings give it a hub area"),
        ("cleo", "The role you selected is not among the roles"),
        ("ciro", "did not say which of your roles you are working in"),
    ],
)  # fmt: skip
def test_a_selected_role_the_map_does_not_grant_or_the_person_does_not_hold_is_refused(
    world: World, login: str, says: str
) -> None:
    with browser(world.base) as client:
        refused = sign_in_at_provider(client, login)
        assert refused.status_code == 403
        assert "You cannot sign in to hubnet" in refused.text
        assert says.replace("'", "&#39;") in refused.text
        assert client.get("/v1/families/f3").status_code == 401
    [record] = sign_in_audit(world.county)
    assert (record.outcome, record.actor) == ("denied", f"oidc:{login}")
    for claim in (NURSE, ADMIN, TRUST, ELSEWHERE, "Person"):
        assert claim not in (record.reason or "")  # the provider's claims stay out of the audit


def impostor_userinfo() -> FastAPI:
    """A UserInfo endpoint that answers for another account, or with something that is not JSON."""
    app = FastAPI()

    @app.get("/other")
    def other() -> dict[str, Any]:
        return {"sub": "someone-else", "nhsid_nrbac_roles": [role("101-hv", NURSE, TRUST)]}

    @app.get("/garbled")
    def garbled() -> PlainTextResponse:
        return PlainTextResponse("<html>maintenance</html>")

    return app


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (None, "did not give your role details"),
        ("/garbled", "did not give your role details"),
        ("/other", "gave details of another account"),
    ],
)
def test_a_userinfo_endpoint_that_fails_or_answers_for_someone_else_gives_a_sign_in_page(
    world: World, path: str | None, says: str
) -> None:
    with served(impostor_userinfo(), lifespan="off") as elsewhere:
        endpoint = f"{elsewhere}{path}" if path else f"http://127.0.0.1:{free_port()}/me"  # nobody there
        world.oidc._discovery = {**world.oidc.discovery(), "userinfo_endpoint": endpoint}
        with browser(world.base) as client:
            refused = sign_in_at_provider(client, "cara")
            assert refused.status_code == 401
            assert says in refused.text
            assert "Traceback" not in refused.text
            assert client.get("/v1/families/f3").status_code == 401
    [record] = sign_in_audit(world.county)
    assert (record.outcome, record.actor) == ("denied", "oidc:cara")  # the verified ID token's subject
    for claim in ("someone-else", NURSE, TRUST, "maintenance"):
        assert claim not in (record.reason or "")  # nothing of either answer reaches the audit
