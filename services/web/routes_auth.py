"""Sign in and sign out of the hub staff pages (local accounts; OIDC via the trusted proxy)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.web import pages

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
    who = pages.auth(request).users.authenticate(username.strip(), password)
    if who is None:
        return pages.render(
            request, "sign_in.html", status=401, next=_safe_next(next),
            error="Enter a correct user name and password", username=username,
        )  # fmt: skip
    state = pages.session(request)
    state.clear()
    state.update(pages.auth(request).signer.load(None))  # a new session id on sign-in
    state["user"] = who.username
    pages.save(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/sign-out", response_model=None)
def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    pages.check_csrf(request, csrf)
    state = pages.session(request)
    state.clear()
    state.update(pages.auth(request).signer.load(None))
    pages.save(request)
    return RedirectResponse("/sign-in", status_code=303)
