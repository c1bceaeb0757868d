"""Sign in and sign out of the hub staff pages (local accounts; OIDC via the trusted proxy).

The password check, throttling, lockout and audit are the sign-in guard's (services/web/signin.py);
the session record is the authenticator's (services/web/auth.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.web import pages
from services.web.signin import Refusal

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only a path on this site, so the sign-in page never redirects elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the query parameter
    return pages.render(request, "sign_in.html", next=_safe_next(next), error=None)


@router.post("/sign-in", response_model=None)
def sign_in(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002 - the form field
) -> HTMLResponse | RedirectResponse:
    pages.check_csrf(request, csrf)
    auth = pages.auth(request)
    outcome = auth.guard.attempt(username, password, auth.proxy.client_address(request), "sign-in page")
    if isinstance(outcome, Refusal):
        response = pages.render(
            request, "sign_in.html", status=outcome.status, next=_safe_next(next),
            error=outcome.message, username=username,
        )  # fmt: skip
        if outcome.retry_after_s:
            response.headers["Retry-After"] = str(outcome.retry_after_s)
        return response
    auth.start_session(request, outcome)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/sign-out", response_model=None)
def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    pages.check_csrf(request, csrf)
    pages.auth(request).end_session(request)
    return RedirectResponse("/sign-in", status_code=303)
