"""Sign in and sign out of the hub staff pages: local accounts here, the county's OpenID provider
in routes_oidc.py (or OIDC via the trusted proxy). With OpenID configured, password sign-in is
off unless HUBNET_OIDC_LOCAL_ACCOUNTS turns it back on (demo, break-glass administration).

The password check, throttling, lockout and audit are the sign-in guard's (services/web/signin.py);
the session record is the authenticator's (services/web/auth.py). Signing out of an OpenID
session ends the provider's session too (RP-initiated logout)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urljoin, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.web import pages, routes_oidc
from services.web.signin import Refusal

router = APIRouter(include_in_schema=False)
LOCAL_OFF = "Sign in with your organisation account: password sign-in is turned off here."


def _page(request: Request, next_: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("error", None)
    return pages.render(
        request, "sign_in.html", status=status, next=pages.safe_next(next_),
        oidc=routes_oidc.client(request) is not None, local=pages.auth(request).local_accounts, **context,
    )  # fmt: skip


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the query parameter
    return _page(request, next)


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
    if not auth.local_accounts:
        return _page(request, next, 403, error=LOCAL_OFF, username=username)
    outcome = auth.guard.attempt(username, password, auth.proxy.client_address(request), "sign-in page")
    if isinstance(outcome, Refusal):
        response = _page(request, next, outcome.status, error=outcome.message, username=username)
        if outcome.retry_after_s:
            response.headers["Retry-After"] = str(outcome.retry_after_s)
        return response
    auth.start_session(request, outcome, "sign-in page")
    return RedirectResponse(pages.safe_next(next), status_code=303)


@router.post("/sign-out", response_model=None)
def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    pages.check_csrf(request, csrf)
    id_token = pages.auth(request).end_session(request)
    oidc = routes_oidc.client(request)
    if oidc is not None and id_token is not None:
        back = urljoin(oidc.config.redirect_url, "/sign-in")
        provider = oidc.logout_url(id_token, back)
        if provider:
            response = RedirectResponse(provider, status_code=303)
            # browsers hold a form's redirect to form-action too: allow the provider's origin here only
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(provider))
            response.headers["Content-Security-Policy"] = pages.SECURITY_HEADERS[
                "Content-Security-Policy"
            ].replace("form-action 'self'", f"form-action 'self' {origin}")
            return response
    return RedirectResponse("/sign-in", status_code=303)
