"""Shared pieces of the staff-rules tests: the identity review queue over the matrix county's
people (tests/security/world.py), and the staff app served on a real loopback HTTP port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from tests.e2e.serving import served

IN_AREA_REVIEW = "rv-tendring"
"""Two Tendring children (fam-w's and fam-t's): open to Tendring and county-wide reviewers."""
ACROSS_REVIEW = "rv-across"
"""A Chelmsford child against a Tendring child: open only to county-wide reviewers."""
REVIEW_PERSONS = {IN_AREA_REVIEW: ("child-w", "child-t"), ACROSS_REVIEW: ("child-c", "child-t")}
UPN_OF = {"child-t": "upn|T111111111111", "child-w": "upn|W222222222222", "child-c": "upn|C333333333333"}


def review_queue(folder: Path) -> IdentityService:
    """An identity store holding the matrix county's three children and the two reviews above."""
    service = IdentityService(IdentityStore.open(folder / "identity.sqlite"))
    store = service.store
    with store.transaction():
        for person_id, token in UPN_OF.items():
            store.add_person(person_id)
            store.attach(token, person_id)
        for review_id, (person_id, candidate_id) in REVIEW_PERSONS.items():
            store.add_review(review_id, UPN_OF[person_id], person_id, candidate_id, {"total": 7.5})
    return service


@contextmanager
def http(app: FastAPI) -> Iterator[httpx.Client]:
    """A client of the app on a real loopback HTTP server (uvicorn in a thread)."""
    with served(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client
