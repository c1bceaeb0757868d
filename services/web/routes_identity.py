"""The identity review queue (services/identity/api.py) on the staff app: same sign-in, same audit.

Who may decide is services/identity/reviewers.py, the rule `hubnet identity` applies too: a review
names the identifier it turns on (a UPN, an NHS number) and both people, so a review outside the
user's areas is neither listed nor decided. Every attempt, allowed or not, is on the audit trail,
refusals with their reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, HTTPException, Request

from services.core.settings import Settings
from services.identity import api
from services.identity.reviewers import review_refusal
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.timeline.users import Principal
from services.web import pages


def _signed_in(request: Request) -> Principal:
    who = pages.user(request)
    if who is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": 'Basic realm="hubnet"'})
    return who


def reviewer(request: Request, action: str, target: str | None, persons: Sequence[str] = ()) -> str:
    """The reviewer's user name; refuses (403, audited with the reason) other roles, and reviewers
    who may not open every one of `persons`."""
    who = _signed_in(request)
    refused = review_refusal(pages.access(request), who, persons)
    audit = pages.access(request).audit
    audit.record(who, action, target, "denied" if refused else "allowed", refused)
    if refused:
        raise HTTPException(403, refused)
    return who.username


def review_scope(request: Request, persons: Sequence[str]) -> bool:
    """Whether the signed-in reviewer may open every one of `persons` (the list shows only those)."""
    return review_refusal(pages.access(request), _signed_in(request), persons) is None


def install_default(app: FastAPI, settings: Settings) -> None:
    """The review API over the identity worker's store (same data folder)."""
    api.install(app, IdentityService(IdentityStore.from_settings(settings)), reviewer, review_scope)
