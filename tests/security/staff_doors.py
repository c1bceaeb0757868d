"""Shared pieces of the staff-rules tests: the identity review queue over the matrix county's
people (tests/security/world.py), the staff app served on a real loopback HTTP port, and the
`hubnet` entry point with the audit trail it writes to in a data dir."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from services.cli.main import app as cli
from services.core.settings import Settings
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.timeline.audit_store import AuditStore
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


def hubnet(*args: str) -> Result:
    """The real `hubnet` command line, in this process (HUBNET_* from the test's environment)."""
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": "250"})


def last_audit(data_dir: Path, actor: str) -> dict[str, Any]:
    """The newest audit record of `actor` in the data dir's audit store."""
    store = AuditStore.from_settings(Settings(data_dir=data_dir))
    try:
        [row] = store.audit_rows(actor=actor, limit=1)
    finally:
        store.close()
    return row
