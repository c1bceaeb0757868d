"""A session opens only through the door that started it (trust rule): its server-side record names
that door (migration 5 of the `users` store), and a record whose door and grants disagree opens
nothing. The case it closes: an OpenID user whose user name equals a local account's name. A
record from before migration 4 holds no grants, so without the door it would open as the local
account; migration 5 ends every such session, and a record tampered either way is refused. Real
staff servers (uvicorn) on shared SQLite stores, and the real OpenID provider."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from services.timeline.policy import Role
from services.timeline.users import MIGRATIONS, UserStore
from services.web.sessions import Signer
from services.web.signin_store import SignInStore, digest
from tests.security.oidc_provider import Provider
from tests.security.oidc_signins import COOKIE, World, browser, oidc_world, sign_in_at_provider, world_user
from tests.security.oidc_signins import staff_app_provider as start_provider
from tests.security.staff_servers import SECRET, County, make_county, replica, sign_in, with_cookie
from tests.sqlite_files import opened
from tests.unit.timeline.events import CHELMSFORD, TENDRING
from tests.unit.timeline.world import PASSWORD

pytestmark = pytest.mark.security
SHARED_NAME = "far-hv"
"""A local account (health visitor in Chelmsford, tests/security/staff_servers.py) and, at the
provider, the user name of a hub practitioner in Tendring."""
ACCOUNTS = {"sam": {"name": "Sam Reed", "preferred_username": SHARED_NAME, "groups": ["sg-hub-tendring"]}}
CLAIM_MAP = f"""
[[rule]]
claim = "groups"
value = "sg-hub-tendring"
role = "hub-practitioner"
areas = ["{TENDRING}"]
"""


class _UsersBeforeDoors(UserStore):
    """The `users` store as it was before migration 5."""

    MIGRATIONS = MIGRATIONS[:4]


def _record_row(users: Path, session_id: str) -> tuple[object, ...]:
    with opened(users, read_only=False) as db:
        row = db.execute(
            "SELECT username, door, openid, ended_at FROM staff_session WHERE session_key = ?",
            (digest(session_id),),
        ).fetchone()
    assert row is not None
    return tuple(row)


def _rewrite_grants(users: Path, client: httpx.Client, openid: str | None) -> None:
    """Change the grants of the browser's session record, the door left as it was."""
    session_id = Signer(SECRET).load(client.cookies[COOKIE])["sid"]
    with opened(users, read_only=False) as db:
        db.execute("UPDATE staff_session SET openid = ? WHERE session_key = ?", (openid, digest(session_id)))


def test_an_openid_session_from_before_migration_4_never_opens_the_local_account_of_its_name(
    tmp_path: Path,
) -> None:
    county = make_county(tmp_path / "county")
    users = tmp_path / "users.sqlite"  # a fresh users store at migration 4, as before the upgrade
    before = _UsersBeforeDoors.open(users)
    before.add(SHARED_NAME, PASSWORD, Role.HEALTH_VISITOR, [CHELMSFORD])
    session_id, now = "an-openid-session-started-before-the-upgrade", time.time()
    with before.transaction():  # as an OpenID sign-in recorded it before migration 4: no grants
        before._run(
            "INSERT INTO staff_session (session_key, username, started_at, last_seen, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (digest(session_id), SHARED_NAME, now, now, now + 3600),
        )
    before.close()
    county = County(county.timeline, users, county.audit)
    cookie = Signer(SECRET).dump({"sid": session_id, "user": SHARED_NAME, "exp": now + 3600})
    with replica(county) as base:  # opening the store applies migration 5
        old = with_cookie(base, f"{COOKIE}={cookie}")
        assert old.get("/v1/families/f3").status_code == 401  # f3 is the local account's family
        assert old.get("/families/f3", follow_redirects=False).status_code == 303  # to the sign-in page
        username, door, openid, ended = _record_row(users, session_id)
        assert (username, door, openid) == (SHARED_NAME, None, None)
        assert ended is not None  # the migration ended it
        again = httpx.Client(base_url=base, timeout=10)  # the local account signs in afresh and works
        assert sign_in(again, SHARED_NAME).status_code == 303
        assert again.get("/v1/families/f3").status_code == 200


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[str, Provider]]:
    yield from start_provider(ACCOUNTS)


@pytest.fixture
def world(tmp_path: Path, provider: tuple[str, Provider]) -> Iterator[World]:
    yield from oidc_world(tmp_path, provider, CLAIM_MAP, "openid profile hubnet", local_accounts=True)


def test_an_openid_session_whose_record_lost_its_grants_opens_nothing_not_the_local_account(
    world: World,
) -> None:
    with browser(world.base) as client:
        sign_in_at_provider(client, "sam")
        assert world_user(world, client)["role"] == Role.HUB_PRACTITIONER.value
        assert client.get("/v1/families/f1").status_code == 200  # Tendring, the provider's grant
        assert client.get("/v1/families/f3").status_code == 403  # not the local account's Chelmsford
        session_id = Signer(SECRET).load(client.cookies[COOKIE])["sid"]
        _rewrite_grants(world.county.users, client, None)
        assert client.get("/v1/families/f3").status_code == 401  # never the local health visitor
        assert client.get("/v1/families/f1").status_code == 401  # and the session has ended
        username, door, _, ended = _record_row(world.county.users, session_id)
        assert (username, door) == (SHARED_NAME, "openid")
        assert ended is not None


def test_a_local_session_whose_record_gained_grants_opens_nothing(world: World) -> None:
    county_wide = {
        "name": "x",
        "role": Role.HUB_MANAGER.value,
        "areas": ["*"],
        "services": [],
        "id_token": "x",
    }
    with httpx.Client(base_url=world.base, timeout=10) as client:
        assert sign_in(client, SHARED_NAME).status_code == 303
        assert client.get("/v1/families/f3").status_code == 200  # the local health visitor's family
        assert client.get("/v1/families/f1").status_code == 403
        _rewrite_grants(world.county.users, client, orjson.dumps(county_wide).decode())
        assert client.get("/v1/families/f1").status_code == 401  # the grants are not the door's
        assert client.get("/v1/families/f3").status_code == 401
    signins = SignInStore.open(world.county.users)
    try:
        assert signins.end_all(SHARED_NAME, time.time()) == 0  # nothing of it is live any more
    finally:
        signins.close()
