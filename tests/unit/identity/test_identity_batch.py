"""Group commit in the identity service (`link_batch`, what the worker runs): one transaction
per batch, a savepoint per event, so a poison event is undone alone and a transient error rolls
the whole batch back for a retry; and the answers equal those of one transaction per event."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from schemas.envelope import HubEvent
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from tests.unit.identity.events import event, nhs, person


def _events() -> list[HubEvent]:
    amy = person("Amy", "Jones", "2024-05-02", "female", "CO15 1AB", nhs_number=nhs(123456), verified=True)
    return [
        event(amy, "e1"),
        event(person("Amy", "Jones", "2024-05-02", "female", "CO15 1AB", local=("la-csc", "P77")), "e2"),
        event(person("Ben", "Hall", "2023-01-09", "male", "CO16 2CD", nhs_number=nhs(222222)), "e3"),
    ]


def _service(tmp_path: Path, name: str) -> IdentityService:
    return IdentityService(IdentityStore.open(tmp_path / f"{name}.sqlite"))


def test_a_batch_gives_the_answers_of_one_transaction_per_event(tmp_path: Path) -> None:
    events = _events()
    batched = _service(tmp_path, "batch").link_batch(events)
    single = _service(tmp_path, "single")
    alone = [single.link(e) for e in events]
    ids = [(r.event.event_id, r.person_id, r.family_ids, r.related_ids) for r in alone]
    assert [(r.event.event_id, r.person_id, r.family_ids, r.related_ids) for r in batched] == ids  # type: ignore[union-attr]


@contextmanager
def _third_fails(service: IdentityService, events: list[HubEvent], error: Exception) -> Iterator[None]:
    """The third event fails as it is remembered, after its person and identifiers were written."""
    real = service.store.remember

    def remember(event_id: str, outcome: dict[str, object]) -> None:
        if event_id == events[2].event_id:
            raise error
        real(event_id, outcome)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service.store, "remember", remember)
        yield


def test_a_poison_event_is_undone_alone_and_the_others_are_committed(tmp_path: Path) -> None:
    service = _service(tmp_path, "identity")
    events = _events()
    with _third_fails(service, events, ValueError("a bug met by this event only")):
        first, second, third = service.link_batch(events)
    assert isinstance(third, ValueError)
    assert not isinstance(first, Exception)
    assert not isinstance(second, Exception)
    reopened = IdentityStore.open(tmp_path / "identity.sqlite")  # what was committed
    assert reopened.seen(events[0].event_id) is not None
    assert reopened.seen(events[2].event_id) is None
    assert reopened.persons_of([f"https://fhir.nhs.uk/Id/nhs-number|{nhs(222222)}"]) == {}


def test_a_transient_error_rolls_the_whole_batch_back_and_is_raised(tmp_path: Path) -> None:
    service = _service(tmp_path, "identity")
    events = _events()
    with (
        _third_fails(service, events, sqlite3.OperationalError("database is locked")),
        pytest.raises(sqlite3.OperationalError),
    ):
        service.link_batch(events)
    assert all(service.store.seen(e.event_id) is None for e in events)
    assert not any(isinstance(r, Exception) for r in service.link_batch(events))
