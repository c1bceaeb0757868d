"""`hubnet serve api`: the timeline API (/v1) and the hub staff web pages in one FastAPI app.

Server-rendered pages in the GOV.UK Design System style (vendored govuk-frontend under
/static/govuk), working without JavaScript and without any external network. Sessions are signed
cookies (services/web/sessions.py) held to server-side records (services/web/signin_store.py),
every form carries a CSRF token, and every response carries a strict Content-Security-Policy.
The cookie is `Secure` when the client used https (directly, or as a trusted proxy says).
All reads go through `TimelineAccess` (policy + audit).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.apidocs import pages as apidocs
from services.core.health import Health, add_health_routes
from services.timeline import api
from services.timeline.access import TimelineAccess
from services.timeline.audit import AuditTrail
from services.timeline.entry_view import NameOf
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web import routes_auth, routes_oidc, routes_pages
from services.web.auth import Authenticator
from services.web.entry_words import entry_words, london, place_name
from services.web.oidc import OidcClient
from services.web.pages import SECURITY_HEADERS
from services.web.proxy import ProxyTrust
from services.web.sessions import COOKIE, Signer
from services.web.signin import SessionRules, SignInGuard
from services.web.signin_store import SignInStore

HERE = Path(__file__).parent


def create_app(
    store: TimelineStore,
    users: UserStore,
    audit: AuditTrail,
    secret: bytes,
    *,
    trust_proxy: bool = False,
    health: Health | None = None,
    rules: SessionRules | None = None,
    signins: SignInStore | None = None,
    names: NameOf | None = None,
    oidc: OidcClient | None = None,
    local_accounts: bool = True,
) -> FastAPI:
    """The staff app; with `health`, operations' `/healthz`, `/readyz` and `/metrics` are served too.

    `signins` holds session records and sign-in failures; replicas share it through the `users`
    store (`hubnet serve api` opens it from the settings). Left out, it lives in this process's
    memory: enough for one app in a test, never for replicas. `names` gives organisation names from
    the county's reference data (services/reference); left out, entries show the codes. With `oidc`,
    staff sign in at the county's OpenID provider; `local_accounts` False turns password sign-in and
    HTTP Basic off."""
    app = FastAPI(title="hubnet family timeline", version="1", docs_url=None, redoc_url=None)
    apidocs.install(app)  # /docs and /redoc from vendored assets: they work offline
    rules = rules or SessionRules()
    signins = signins or SignInStore.open(":memory:")
    signer = Signer(secret, rules.absolute_s)
    proxy = ProxyTrust(rules.trusted_proxies)
    app.state.access = TimelineAccess(store, audit)
    guard = SignInGuard(users, signins, audit, rules)
    app.state.auth = Authenticator(users, signer, guard, signins, proxy, trust_proxy, local_accounts)
    app.state.oidc = oidc
    app.state.signer = signer
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.templates.env.globals["entry_words"] = entry_words
    app.state.templates.env.filters["london"] = london
    app.state.templates.env.filters["place_name"] = place_name
    app.state.templates.env.filters["organisation_name"] = place_name
    app.state.organisation_names = names
    app.include_router(api.router)
    app.include_router(routes_auth.router)
    app.include_router(routes_oidc.router)
    app.include_router(routes_pages.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    if health is not None:
        add_health_routes(app, health)

    @app.middleware("http")
    async def session_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        session = getattr(request.state, "session", None)
        if getattr(request.state, "save_session", False) and session is not None:
            response.set_cookie(
                COOKIE, signer.dump(session), max_age=signer.remaining_s(session), httponly=True,
                samesite="lax", secure=proxy.https(request), path="/",
            )  # fmt: skip
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
