"""Real staff API servers for the session tests: uvicorn on free loopback ports, as `hubnet serve
api` runs it (uvicorn's own proxy-header handling off), each replica with its own store
connections on shared SQLite files, so replicas see each other only through the stores."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web.app import create_app
from services.web.signin import SessionRules
from services.web.signin_store import SignInStore
from tests.e2e.serving import served
from tests.unit.gateway.support import ListPublisher
from tests.unit.timeline.events import CHELMSFORD, TENDRING
from tests.unit.timeline.world import PASSWORD
from tests.unit.timeline.world import build as build_county

SECRET = b"replicas-share-this-signing-key!" * 2
USERS = {"hv": (Role.HEALTH_VISITOR, TENDRING), "sw": (Role.SOCIAL_WORKER, TENDRING),
         "far-hv": (Role.HEALTH_VISITOR, CHELMSFORD)}  # fmt: skip


@dataclass
class County:
    """The timeline store's file (families f1, f2 in Tendring, f3 in Chelmsford), the staff
    accounts' file, the audit store's file, and every audit record the replicas published (fh.audit)."""

    timeline: Path
    users: Path
    audit: Path
    published: ListPublisher = field(default_factory=ListPublisher)


def make_county(folder: Path) -> County:
    store, _, _ = build_county(folder / "timeline.sqlite")
    store.close()
    users = UserStore.open(folder / "users.sqlite")
    for name, (role, area) in USERS.items():
        users.add(name, PASSWORD, role, [area])
    users.close()
    return County(folder / "timeline.sqlite", folder / "users.sqlite", folder / "audit.sqlite")


@contextmanager
def replica(
    county: County,
    secret: bytes = SECRET,
    rules: SessionRules | None = None,
    *,
    trust_proxy: bool = False,
    port: int | None = None,
    **options: Any,
) -> Iterator[str]:
    """One API replica's base URL while it runs (`trust_proxy`: `hubnet serve api --trust-proxy`;
    `port` when the URL must be known first, as an OpenID provider's redirect URI; `options` go to
    `create_app`, e.g. `oidc` and `local_accounts`)."""
    store = TimelineStore.open(county.timeline)
    users = UserStore.open(county.users)
    signins = SignInStore.open(county.users)
    audit = AuditTrail(AuditStore.open(county.audit), county.published)
    app = create_app(
        store, users, audit, secret, rules=rules, signins=signins, trust_proxy=trust_proxy, **options
    )
    try:
        with served(app, port=port, proxy_headers=False) as url:
            yield url
    finally:
        for opened in (store, users, signins, audit.store):
            opened.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "form without a CSRF token"
    return found.group(1)


def sign_in(client: httpx.Client, user: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    """Post the sign-in form as a browser does (its CSRF token first)."""
    token = csrf_of(client.get("/sign-in", headers=headers).text)
    form = {"username": user, "password": password, "csrf": token, "next": "/"}
    return client.post("/sign-in", data=form, headers=headers)


def sign_out(client: httpx.Client) -> httpx.Response:
    token = csrf_of(client.get("/").text)
    return client.post("/sign-out", data={"csrf": token})


def with_cookie(base: str, cookie: str | bytes) -> httpx.Client:
    """A client that sends exactly this Cookie header (a replayed or forged cookie)."""
    return httpx.Client(base_url=base, headers={"Cookie": cookie}, timeout=10)
