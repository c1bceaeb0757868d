"""The identity review queue (services/identity/api.py) on the staff app: same sign-in, same audit.

Who may decide that two records are one person (or not) is a data-quality responsibility: hub
managers and hub practitioners. Every attempt, allowed or not, is on the audit trail.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request

from services.core.settings import Settings
from services.identity import api
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.timeline.policy import Role
from services.web import pages

REVIEWER_ROLES = frozenset({Role.HUB_MANAGER, Role.HUB_PRACTITIONER})


def reviewer(request: Request, action: str, target: str | None) -> str:
    who = pages.user(request)
    if who is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": 'Basic realm="hubnet"'})
    allowed = who.role in REVIEWER_ROLES
    request.app.state.access.audit.record(who, action, target, "allowed" if allowed else "denied", None)
    if not allowed:
        raise HTTPException(403, "identity reviews are decided by hub managers and hub practitioners")
    return who.username


def install_default(app: FastAPI, settings: Settings) -> None:
    """The review API over the identity worker's store (same data folder)."""
    api.install(app, IdentityService(IdentityStore.from_settings(settings)), reviewer)
