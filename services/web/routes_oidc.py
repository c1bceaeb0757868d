"""Sign-in at the county's OpenID provider: `/sign-in/oidc` sends the browser there,
`/sign-in/oidc/callback` takes it back, verifies the ID token and maps its claims
(services/web/oidc.py, services/web/claim_map.py) into a server-side session.

A refusal (a stale or foreign callback, a token that does not verify, a user the county's claim
map gives no role or area) is a page that says what happened and what to do, and is audited
(`staff.sign-in`, denied) with the provider's subject id, never the token or its other claims.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from schemas.audit import AuditRecord
from services.web import pages
from services.web.claim_map import UnmappedError
from services.web.oidc import OidcClient, SignInError

router = APIRouter(include_in_schema=False)
PENDING = "oidc_pending"


def client(request: Request) -> OidcClient | None:
    found: OidcClient | None = getattr(request.app.state, "oidc", None)
    return found


def _refuse(request: Request, message: str, subject: str | None, status: int) -> HTMLResponse:
    auth = pages.auth(request)
    auth.guard.audit.write(
        AuditRecord(
            actor=f"oidc:{subject}" if subject else "unknown-user", action="staff.sign-in", outcome="denied",
            reason=f"OpenID sign-in refused: {message}",
        )
    )  # fmt: skip
    return pages.render(request, "sign_in_refused.html", status=status, message=message)


@router.get("/sign-in/oidc", response_model=None)
def start(request: Request, next: str = "/") -> RedirectResponse | HTMLResponse:  # noqa: A002 - query
    oidc = client(request)
    if oidc is None:
        return RedirectResponse("/sign-in", status_code=303)
    session = pages.session(request)
    pending: dict[str, Any] = {"next": pages.safe_next(next)}
    url = oidc.begin(pending)
    session[PENDING] = pending
    pages.save(request)
    return RedirectResponse(url, status_code=303)


@router.get("/sign-in/oidc/callback", response_model=None)
def callback(
    request: Request, code: str = "", state: str = "", error: str = "", error_description: str = ""
) -> RedirectResponse | HTMLResponse:
    oidc = client(request)
    if oidc is None:
        return RedirectResponse("/sign-in", status_code=303)
    session = pages.session(request)
    pending = session.pop(PENDING, None) or {}
    pages.save(request)  # the pending sign-in is used once, whatever happens next
    if error or not code:
        code_word = error if re.fullmatch(r"[a-z_]{1,40}", error) else "no code" if not error else "error"
        reason = "Your organisation's sign-in service did not sign you in"
        return _refuse(request, f"{reason} ({code_word}). Sign in again.", None, 401)
    try:
        claims, id_token = oidc.finish(pending, code, state)
    except SignInError as failure:
        return _refuse(request, str(failure), failure.subject, 401)
    try:
        who = oidc.claim_map.principal(claims)
    except UnmappedError as unmapped:
        return _refuse(request, str(unmapped), str(claims.get("sub")), 403)
    pages.auth(request).start_session(request, who, "OpenID provider", id_token)
    return RedirectResponse(pages.safe_next(str(pending.get("next") or "/")), status_code=303)
