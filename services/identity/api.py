"""Review queue over HTTP for hub staff: list possible matches, confirm, reject.

A FastAPI router mounted with `install`, which is given the staff app's `Reviewer` and
`ReviewScope`. The reviewer signs the caller in, decides whether they may review identities and
open both records of the review, audits the attempt once, and returns the name kept as
`decided_by` (never taken from the request body); the scope keeps the list to the reviews whose
two records the caller may open (a decision joins or separates two people: deciding it, or seeing
the identifiers it turns on, is a read of both). Decisions behave as in `hubnet identity review`
(services/identity/decisions.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from services.identity import decisions
from services.identity.reviewers import review_persons
from services.identity.service import IdentityService

router = APIRouter(prefix="/v1/identity", tags=["identity"])


Reviewer = Callable[[Request, str, str | None, Sequence[str]], str]
"""(request, action, target, persons) -> the reviewer's user name; audits once, and raises 401/403
for a user who may not review identities or may not open every one of `persons`."""
ReviewScope = Callable[[Request, Sequence[str]], bool]
"""(request, persons) -> whether the signed-in user may open every one of them (no audit: the
list's own audit record counts what it showed)."""


def install(app: FastAPI, service: IdentityService, reviewer: Reviewer, scope: ReviewScope) -> None:
    app.state.identity = service
    app.state.identity_reviewer = reviewer
    app.state.identity_scope = scope
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


def _reviewer(request: Request, action: str, target: str | None = None, persons: Sequence[str] = ()) -> str:
    reviewer: Reviewer = request.app.state.identity_reviewer
    return reviewer(request, action, target, persons)


async def _decider(request: Request, service: IdentityService, action: str, review_id: str) -> str:
    """The reviewer, once they may open both records of this review (unknown ids: 409 from the
    decision itself, after the role check, so the answer tells nothing to other roles)."""
    found = await run_in_threadpool(service.store.reviews, None)
    review = next((r for r in found if r["review_id"] == review_id), None)
    return _reviewer(request, action, review_id, review_persons(review) if review else ())


@router.get("/reviews")
async def list_reviews(
    request: Request, service: Service, status: str | None = "open"
) -> list[dict[str, Any]]:
    """Possible matches whose two records you may open, with the score per field; `status=`
    (empty) lists decided ones too."""
    _reviewer(request, "identity.reviews.list")
    scope: ReviewScope = request.app.state.identity_scope
    found = await run_in_threadpool(service.store.reviews, status or None)
    return [r for r in found if scope(request, review_persons(r))]


@router.post("/reviews/{review_id}/confirm")
async def confirm_review(
    request: Request, review_id: str, decision: Decision, service: Service
) -> DecisionResult:
    """They are one person: merge; the identity worker publishes the merge on fh.linked."""
    decided_by = await _decider(request, service, "identity.review.confirm", review_id)
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
    decided_by = await _decider(request, service, "identity.review.reject", review_id)
    try:
        await run_in_threadpool(decisions.reject, service, review_id, decided_by, decision.reason)
    except decisions.DecisionError as error:
        raise HTTPException(409, str(error)) from None
    return DecisionResult(review_id=review_id, status="rejected")
