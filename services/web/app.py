"""`hubnet serve api`: the timeline API (/v1) and the hub staff web pages in one FastAPI app.

Server-rendered pages in the GOV.UK Design System style (vendored govuk-frontend under
/static/govuk), working without JavaScript and without any external network. Sessions are signed
cookies (services/web/sessions.py), every form carries a CSRF token, and every response carries a
strict Content-Security-Policy. All reads go through `TimelineAccess` (policy + audit).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.core.health import Health, add_health_routes
from services.timeline import api
from services.timeline.access import TimelineAccess
from services.timeline.audit import AuditTrail
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web import routes_auth, routes_pages
from services.web.auth import Authenticator
from services.web.sessions import COOKIE, SESSION_S, Signer

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_app(
    store: TimelineStore,
    users: UserStore,
    audit: AuditTrail,
    secret: bytes,
    *,
    trust_proxy: bool = False,
    health: Health | None = None,
) -> FastAPI:
    """The staff app; with `health`, operations' `/healthz`, `/readyz` and `/metrics` are served too."""
    app = FastAPI(title="hubnet family timeline", version="1", docs_url="/docs", redoc_url=None)
    signer = Signer(secret)
    app.state.access = TimelineAccess(store, audit)
    app.state.auth = Authenticator(users, signer, trust_proxy)
    app.state.signer = signer
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.include_router(api.router)
    app.include_router(routes_auth.router)
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
                COOKIE, signer.dump(session), max_age=SESSION_S, httponly=True, samesite="lax",
                secure=request.url.scheme == "https", path="/",
            )  # fmt: skip
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
