"""Review queue over HTTP for hub staff: list possible matches, confirm, reject.

A FastAPI router mounted with `install`, which is given the staff app's `Reviewer`: it signs the
caller in, decides whether they may review identities, audits the attempt, and returns the name
kept as `decided_by` (never taken from the request body). Decisions behave as in `hubnet identity
review` (services/identity/decisions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from services.identity import decisions
from services.identity.service import IdentityService

router = APIRouter(prefix="/v1/identity", tags=["identity"])


Reviewer = Callable[[Request, str, str | None], str]
"""(request, action, target) -> the reviewer's user name; audits, and raises 401/403 for others."""


def install(app: FastAPI, service: IdentityService, reviewer: Reviewer) -> None:
    app.state.identity = service
    app.state.identity_reviewer = reviewer
    app.include_router(router)


class Decision(BaseModel):
    reason: str = Field(min_length=1, description="Why (kept on the audit trail).")


class DecisionResult(BaseModel):
    review_id: str
    status: str
    kept: str | None = None
    absorbed: str | None = None


def _service(request: Request) -> IdentityService:
    service: IdentityService = request.app.state.identity
    return service


Service = Annotated[IdentityService, Depends(_service)]


def _reviewer(request: Request, action: str, target: str | None = None) -> str:
    reviewer: Reviewer = request.app.state.identity_reviewer
    return reviewer(request, action, target)


@router.get("/reviews")
async def list_reviews(
    request: Request, service: Service, status: str | None = "open"
) -> list[dict[str, Any]]:
    """Possible matches with the score per field; `status=` (empty) lists decided ones too."""
    _reviewer(request, "identity.reviews.list")
    return await run_in_threadpool(service.store.reviews, status or None)


@router.post("/reviews/{review_id}/confirm")
async def confirm_review(
    request: Request, review_id: str, decision: Decision, service: Service
) -> DecisionResult:
    """They are one person: merge; the identity worker publishes the merge on fh.linked."""
    decided_by = _reviewer(request, "identity.review.confirm", review_id)
    try:
        merge = await run_in_threadpool(decisions.confirm, service, review_id, decided_by, decision.reason)
    except decisions.DecisionError as error:
        raise HTTPException(409, str(error)) from None
    return DecisionResult(
        review_id=review_id, status="confirmed", kept=merge.kept if merge else None,
        absorbed=merge.absorbed if merge else None,
    )  # fmt: skip


@router.post("/reviews/{review_id}/reject")
async def reject_review(
    request: Request, review_id: str, decision: Decision, service: Service
) -> DecisionResult:
    """They are different people: never linked automatically, now or on replay."""
    decided_by = _reviewer(request, "identity.review.reject", review_id)
    try:
        await run_in_threadpool(decisions.reject, service, review_id, decided_by, decision.reason)
    except decisions.DecisionError as error:
        raise HTTPException(409, str(error)) from None
    return DecisionResult(review_id=review_id, status="rejected")
