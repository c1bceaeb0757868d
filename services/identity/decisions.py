"""Human decisions: confirm or reject a possible match, split records out of a hub person.

Each decision is stored as a verdict between identifiers ('same' or 'different'), which the
resolver consults before any automatic link or merge and again when events are replayed, so the
machine never overturns a person's decision. Each is audited with who and why, and a merge or
unmerge notice is queued for fh.linked in the same transaction (the worker publishes it).
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import resource_id
from schemas.errors import HubnetError
from services.identity.resolver import Merge
from services.identity.service import IdentityService


class DecisionError(HubnetError):
    """The decision cannot be applied (unknown review, already decided, unknown identifiers)."""


def open_review(service: IdentityService, review_id: str) -> dict[str, Any]:
    found = [r for r in service.store.reviews(status=None) if r["review_id"] == review_id]
    if not found:
        raise DecisionError(f"no review '{review_id}': `hubnet identity review list` shows the open ones")
    if found[0]["status"] != "open":
        raise DecisionError(
            f"review '{review_id}' was already {found[0]['status']} by {found[0]['decided_by']}"
        )
    return found[0]


def confirm(service: IdentityService, review_id: str, by: str, reason: str) -> Merge | None:
    """The two are one person: merge them (the older id survives) and remember the verdict."""
    store = service.store
    with store.transaction():
        review = open_review(service, review_id)
        candidate = store.canonical(review["candidate_id"])
        store.decide(review["token"], _any_token(service, candidate), "same", by)
        merge = service.resolver.merge(candidate, review["person_id"], f"user:{by}", reason, review["score"])
        if merge:
            service.queue(merge)
        store.close_review(review_id, "confirmed", by, reason)
    return merge


def reject(service: IdentityService, review_id: str, by: str, reason: str) -> None:
    """The two are different people: keep them apart, now and on every replay."""
    store = service.store
    with store.transaction():
        review = open_review(service, review_id)
        candidate = store.canonical(review["candidate_id"])
        store.decide(review["token"], _any_token(service, candidate), "different", by)
        store.audit(
            "reject", review["person_id"], candidate, by=f"user:{by}", reason=reason, detail=review["score"]
        )
        store.close_review(review_id, "rejected", by, reason)


def split(service: IdentityService, person_id: str, tokens: list[str], by: str, reason: str) -> Merge:
    """Move the records stated by these identifiers to a new hub person (an unmerge)."""
    store = service.store
    with store.transaction():
        person_id = store.canonical(person_id)
        held = [t for t, _ in store.tokens_of(person_id)]
        moving = sorted(set(tokens))
        staying = [t for t in held if t not in moving]
        if not moving or set(moving) - set(held) or not staying:
            raise DecisionError(
                "name one or more identifiers of the person to move, leaving at least one behind "
                "(`hubnet identity show PERSON` lists them)"
            )
        new_id = resource_id("hub-person-split", person_id, *moving)
        store.add_person(new_id)
        store.move_tokens(moving, person_id, new_id)
        for family_id, role in store.memberships(person_id):
            store.add_member(family_id, new_id, role, "unmerge")
        store.decide(moving[0], staying[0], "different", by)
        store.audit(
            "unmerge", person_id, new_id, by=f"user:{by}", reason=reason, detail={"moved": len(moving)}
        )
        unmerge = Merge(kept=person_id, absorbed=new_id, by=f"user:{by}", reason=reason, unmerge=True)
        service.queue(unmerge)
    return unmerge


def _any_token(service: IdentityService, person_id: str) -> str:
    tokens = service.store.tokens_of(person_id)
    if not tokens:
        raise DecisionError(f"hub person '{person_id}' holds no identifiers")
    return tokens[0][0]
