"""What every page handler needs: the signed-in user, the session, CSRF checks, rendering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.timeline.access import TimelineAccess
from services.timeline.users import Principal
from services.web.auth import Authenticator
from services.web.sessions import Signer

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def auth(request: Request) -> Authenticator:
    found: Authenticator = request.app.state.auth
    return found


def access(request: Request) -> TimelineAccess:
    found: TimelineAccess = request.app.state.access
    return found


def session(request: Request) -> dict[str, Any]:
    return auth(request).session(request)


def save(request: Request) -> None:
    request.state.save_session = True


def user(request: Request) -> Principal | None:
    return auth(request).principal(request)


def check_csrf(request: Request, token: str | None) -> None:
    signer: Signer = request.app.state.signer
    if not signer.csrf_ok(session(request), token):
        raise HTTPException(400, "The form expired. Go back, reload the page and try again.")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    signer: Signer = request.app.state.signer
    state = session(request)
    save(request)  # an anonymous visitor gets a session id, so the sign-in form's CSRF token holds
    who = user(request)
    common = {"user": who, "csrf": signer.csrf(state), "referral_count": _referral_count(request, who)}
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, {**common, **context}, status_code=status
    )
    return response


ReferralCount = Callable[[Request, Principal], int | None]


def _referral_count(request: Request, who: Principal | None) -> int | None:
    """The navigation's count of referrals waiting on the user, when the referral pages are
    mounted (services/web/routes_referrals.py) and the user works with referrals."""
    count: ReferralCount | None = getattr(request.app.state, "referral_count", None)
    return count(request, who) if count and who else None


def to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/sign-in?next={request.url.path}", status_code=303)


def safe_next(target: str) -> str:
    """Only a path on this site, so a sign-in never redirects elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
