"""The referral service on its store (SQLite and PostgreSQL, tests/databases.py): routing,
re-routing, the manager's queue, consent, duplicates, SLA escalation on an advanced clock,
retractions, idempotent redelivery, and the BaRS-style messages it queues for fh.referrals."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.common.fhir_validation import validate_resource
from schemas.event_types import EventType
from services.referrals.lifecycle import Action, LifecycleError, Status
from services.referrals.messages import DFE_STATUS_SYSTEM, STATUS_SYSTEM, task_id
from services.referrals.service import ReferralNotFoundError, ReferralService
from services.referrals.sla import ManualClock
from services.referrals.store import ReferralStore
from tests.databases import Backend
from tests.unit.referrals.networks import demo_network
from tests.unit.referrals.support import (
    CLACTON,
    HARLOW,
    NOW,
    Harness,
    consent_event,
    linked,
    referral,
    sen_event,
)


@pytest.fixture
def hub(backend: Backend) -> Harness:
    return Harness(store=backend.open(ReferralStore))


def only(hub: Harness) -> str:
    (found,) = hub.store.find("1=1")
    return found.referral_id


def business(task: dict[str, object], system: str) -> str:
    codings = task["businessStatus"]["coding"]  # type: ignore[index]
    return str(next(c["code"] for c in codings if c["system"] == system))


def test_a_referral_is_routed_and_a_valid_task_message_is_queued(hub: Harness) -> None:
    hub.service.handle(referral("r1", "early-help-referral"))
    rid = only(hub)
    stored = hub.store.get(rid)
    assert stored is not None
    assert stored.status is Status.REQUESTED
    assert stored.offer_id == "family-support@hub11"
    (message,) = hub.messages()
    assert message.event_type is EventType.REFERRAL_STATUS_CHANGED
    task, request = (e.resource for e in message.entries)
    validate_resource(task)
    validate_resource(request)
    assert task["id"] == task_id(rid, 1)
    assert task["status"] == "requested"
    assert business(task, STATUS_SYSTEM) == "requested"
    assert business(task, DFE_STATUS_SYSTEM) == "New"
    assert task["owner"]["identifier"]["value"] == "family-support@hub11"
    assert task["restriction"]["period"]["end"] == "2025-03-04T17:00:00.000000Z"  # 16 working hours
    assert task["note"][0]["text"].startswith(
        "need Family support (early help), home hub area Tendring Family Hubs"
    )
    assert request["category"][0]["coding"][0]["code"] == "family-support"
    assert request["basedOn"][0]["identifier"]["value"] == "r1"
    (row,) = hub.store.outbox()
    assert row.key == rid.encode()
    assert dict(row.headers)["referrer"] == b"nhs-hv"


def test_a_redelivered_event_changes_nothing(hub: Harness) -> None:
    event = referral("r1", "early-help-referral")
    hub.service.handle(event)
    hub.service.handle(event)
    assert len(hub.messages()) == 1
    assert len(hub.store.find("1=1")) == 1


def test_the_whole_lifecycle_reads_as_task_and_dfe_statuses(hub: Harness) -> None:
    hub.service.handle(referral("r1", "early-help-referral"))
    rid = only(hub)
    for action in (Action.OPEN, Action.ACCEPT, Action.START, Action.COMPLETE):
        hub.clock.advance(timedelta(hours=1))
        hub.service.act(rid, action, "worker-1")
    tasks = hub.tasks()
    assert [t["status"] for t in tasks] == ["requested", "received", "accepted", "in-progress", "completed"]
    assert [business(t, DFE_STATUS_SYSTEM) for t in tasks] == [
        "New",
        "Opened",
        "Accepted",
        "Accepted",
        "Accepted",
    ]
    assert len({t["id"] for t in tasks}) == 1  # one service asked: one Task, its status moving
    done = hub.store.get(rid)
    assert done is not None
    assert done.accepted_at is not None
    assert done.completed_at is not None
    assert [h[1] for h in hub.store.history(rid)] == [
        "requested",
        "opened",
        "accepted",
        "in-progress",
        "completed",
    ]
    with pytest.raises(LifecycleError):
        hub.service.act(rid, Action.CANCEL, "worker-1", "too late")


def test_a_rejection_is_rerouted_to_the_next_candidate_and_then_to_the_hub_manager(hub: Harness) -> None:
    hub.service.handle(referral("r1", "youth-work-referral", age=22, postcode=HARLOW))
    hub.service.handle(sen_event("s1", serial=1, family="fam-1"))  # learnt after: routing used no SEND
    rid = only(hub)
    first = hub.store.get(rid)
    assert first is not None
    assert first.status is Status.AWAITING_MANAGER  # 22 without known SEND: nobody eligible
    hub.service.act(rid, Action.CANCEL, "manager-1", "duplicate of a phone referral")

    hub.service.handle(referral("r2", "youth-work-referral", serial=1, age=22, postcode=HARLOW))
    rid2 = next(r.referral_id for r in hub.store.find("source_record_id = 'r2'"))
    routed = hub.store.get(rid2)
    assert routed is not None
    assert routed.offer_id == "send-transitions@hub08"
    hub.service.act(rid2, Action.REJECT, "worker-2", "no transitions worker until May")
    again = hub.store.get(rid2)
    assert again is not None
    assert again.status is Status.REQUESTED
    assert again.attempt == 2
    assert again.offer_id not in (None, "send-transitions@hub08")
    assert again.offer_id.startswith("send-transitions@")
    while (current := hub.store.get(rid2)) is not None and current.status is Status.REQUESTED:
        hub.service.act(rid2, Action.REJECT, "worker", "full")
    assert current is not None
    assert current.status is Status.AWAITING_MANAGER
    assert "no eligible service with places" in current.reason
    rejected = [t for t in hub.tasks() if t["status"] == "rejected"]
    assert len(rejected) == current.attempt - 1  # every service asked declined, and said so
    assert all(business(t, DFE_STATUS_SYSTEM) == "Declined" for t in rejected)
    assert rejected[0]["statusReason"]["text"] == "declined by the service: no transitions worker until May"
    assert len({t["id"] for t in rejected}) == len(rejected)  # one Task per service asked


def test_a_hub_manager_assigns_from_the_queue(hub: Harness) -> None:
    hub.service.handle(referral("r1", "hip-replacement"))
    rid = only(hub)
    queued = hub.store.get(rid)
    assert queued is not None
    assert queued.status is Status.AWAITING_MANAGER
    done = hub.service.act(
        rid, Action.ASSIGN, "manager-1", "family asked for the hub", "family-support@hub11"
    )
    assert done.status is Status.REQUESTED
    assert done.offer_id == "family-support@hub11"
    with pytest.raises(ReferralNotFoundError, match="no service offer nowhere@hub99"):
        hub.service.act(rid, Action.ASSIGN, "manager-1", "x", "nowhere@hub99")


def test_capacity_is_counted_spread_and_given_back_on_rejection(hub: Harness) -> None:
    for number in range(11):
        hub.service.handle(referral(f"r{number}", "early-help-referral", serial=number, family=f"f{number}"))
    counts = Counter(r.offer_id for r in hub.store.find("1=1"))
    week = "2025-W10"
    for offer, routed in counts.items():
        assert offer is not None
        assert hub.store.used([offer], week) == {offer: routed}
    # equally good offers (the hub and its outreach team) share the load: most places left first
    assert counts["family-support@hub11"] == 6
    assert counts["family-support@hub11-out"] == 5
    victim = next(r for r in hub.store.find("offer_id = 'family-support@hub11'"))
    hub.service.act(victim.referral_id, Action.REJECT, "worker", "family moved")
    assert hub.store.used(["family-support@hub11"], week) == {"family-support@hub11": 5}


def test_no_consent_holds_then_consent_releases(hub: Harness) -> None:
    hub.service.handle(referral("r1", "foodbank-referral", serial=5, family="fam-5", age=6))
    rid = only(hub)
    held = hub.store.get(rid)
    assert held is not None
    assert held.status is Status.HELD
    assert hub.tasks()[0]["status"] == "on-hold"
    assert "held until the family's consent" in hub.tasks()[0]["statusReason"]["text"]
    hub.service.handle(consent_event("c1", serial=5, family="fam-5"))
    routed = hub.store.get(rid)
    assert routed is not None
    assert routed.status is Status.REQUESTED
    assert routed.offer_id is not None
    assert routed.offer_id.startswith("food-bank@")


def test_consent_in_the_referral_bundle_counts(hub: Harness) -> None:
    hub.service.handle(referral("r1", "foodbank-referral", consent=True))
    found = hub.store.get(only(hub))
    assert found is not None
    assert found.status is Status.REQUESTED


def test_a_second_referral_for_the_same_family_and_need_is_linked(hub: Harness) -> None:
    hub.service.handle(referral("r1", "early-help-referral", family="fam-9"))
    hub.service.handle(referral("s-77", "early-help", serial=2, family="fam-9", partner="school"))
    first, second = hub.store.find("1=1 ORDER BY source_record_id")
    primary, linked_one = (first, second) if first.source_record_id == "r1" else (second, first)
    assert linked_one.status is Status.LINKED
    assert linked_one.linked_to == primary.referral_id
    assert primary.request["referrers"] == ["nhs-hv", "school"]
    assert hub.store.used(["family-support@hub11"], "2025-W10") == {"family-support@hub11": 1}
    linked_task = hub.tasks()[-1]
    assert linked_task["partOf"][0]["identifier"]["value"] == primary.referral_id
    # a different need is a new referral
    hub.service.handle(referral("r3", "speech-and-language-referral", serial=3, family="fam-9"))
    assert (
        hub.store.by_source("nhs-hv", "https://example.org/nhs-hv/records", "r3").status is Status.REQUESTED
    )  # type: ignore[union-attr]


def test_sla_escalates_only_after_the_working_hours_pass(hub: Harness) -> None:
    hub.service.handle(referral("r1", "early-help-referral"))
    rid = only(hub)
    hub.clock.advance(timedelta(hours=31))  # Tuesday 16:00: 15 working hours
    assert hub.service.scan() == 0
    hub.clock.advance(timedelta(hours=2))
    assert hub.service.scan() == 1
    assert hub.service.scan() == 0  # a timer fires once
    escalated = hub.store.get(rid)
    assert escalated is not None
    assert escalated.escalated_at is not None
    assert escalated.status is Status.REQUESTED  # still the service's, now on the manager's overdue list
    assert "escalated to the hub manager of Tendring Family Hubs" in escalated.reason
    assert [r.referral_id for r in hub.store.overdue(hub.clock.now(), ["E07000076"])] == [rid]


def test_an_accepted_referral_never_escalates(hub: Harness) -> None:
    hub.service.handle(referral("r1", "early-help-referral"))
    hub.service.act(only(hub), Action.ACCEPT, "worker")
    hub.clock.advance(timedelta(days=10))
    assert hub.service.scan() == 0


def test_timers_survive_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    network = demo_network()
    store = ReferralStore.open(tmp_path / "referrals.sqlite")
    ReferralService(store, network, clock).handle(referral("r1", "early-help-referral"))
    store.close()
    clock.advance(timedelta(days=3))
    restarted = ReferralService(ReferralStore.open(tmp_path / "referrals.sqlite"), network, clock)
    assert restarted.scan() == 1


def test_retraction_and_revocation_by_the_referrer_cancel(hub: Harness) -> None:
    hub.service.handle(referral("r1", "early-help-referral", family="a"))
    hub.service.handle(referral("r2", "speech-and-language-referral", serial=2, family="b"))
    hub.service.handle(
        referral("r2", "speech-and-language-referral", serial=2, family="b", status="revoked", version="2")
    )
    event = referral("r1", "early-help-referral", family="a").event
    number = event.subjects[0].value
    retraction = linked(
        EventType.RECORD_RETRACTED, "r1-x", [], number=number, person="person-1", family="a", retracts="r1"
    )
    hub.service.handle(retraction)
    statuses = {r.source_record_id: r.status for r in hub.store.find("1=1")}
    assert statuses == {"r1": Status.CANCELLED, "r2": Status.CANCELLED}
    assert hub.store.used(["family-support@hub11"], "2025-W10") == {"family-support@hub11": 0}


def test_restricted_referrals_stay_restricted_in_their_messages(hub: Harness) -> None:
    from schemas.envelope import CONFIDENTIALITY_SYSTEM, Sensitivity

    event = referral("r1", "safeguarding-concern")
    restricted = linked(
        EventType.REFERRAL_REQUESTED, "r1", [e.resource for e in event.event.entries],
        number=event.event.subjects[0].value, person="p", family="f", sensitivity=Sensitivity.RESTRICTED,
    )  # fmt: skip
    hub.service.handle(restricted)
    (message,) = hub.messages()
    assert message.sensitivity is Sensitivity.RESTRICTED
    for entry in message.entries:
        assert {"system": CONFIDENTIALITY_SYSTEM, "code": "R"} in entry.resource["meta"]["security"]


def test_messages_are_deterministic_across_runs() -> None:
    def run() -> list[tuple[str, bytes]]:
        hub = Harness()
        hub.service.handle(referral("r1", "early-help-referral"))
        hub.service.act(hub.store.find("1=1")[0].referral_id, Action.REJECT, "w", "full")
        return [(m.event_id, m.to_bytes()) for m in hub.messages()]

    assert run() == run()


def test_unknown_referral_is_reported(hub: Harness) -> None:
    with pytest.raises(ReferralNotFoundError):
        hub.service.act("nope", Action.OPEN, "w")


def test_events_without_a_patient_or_referral_meaning_are_ignored(hub: Harness) -> None:
    hub.service.handle(linked(EventType.ENCOUNTER, "e1", [], number="9990000018", person="p", family="f"))
    assert hub.store.find("1=1") == []
    assert not hub.store.seen(
        linked(EventType.ENCOUNTER, "e1", [], number="9990000018", person="p", family="f").event.event_id
    )


def test_postcode_learnt_earlier_is_used(hub: Harness) -> None:
    from tests.unit.referrals.support import nhs, patient

    hub.service.handle(
        linked(
            EventType.PERSON_REGISTERED,
            "p1",
            [patient(nhs(4), "2021-06-01", CLACTON)],
            number=nhs(4),
            person="person-4",
            family="f4",
        )
    )
    hub.service.handle(referral("r1", "early-help-referral", serial=4, postcode=None, age=None, family="f4"))
    found = hub.store.get(only(hub))
    assert found is not None
    assert found.offer_id == "family-support@hub11"
