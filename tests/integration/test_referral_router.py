"""The referral router through the real (embedded) broker: linked events in on a topic, Task
messages out on another, across Tendring, Harlow, Chelmsford and its neighbours.

Scenarios (the issue's list): routing to the home hub; a SEND young person of 22 routed to a
service that includes them and not to an under-19 one; a rejection re-routed; capacity exhausted
-> a neighbouring district; SLA escalation after a simulated clock advance; a duplicate referral
linked; a poison message dead-lettered; and a restart of the router mid-flight that loses no
referral and duplicates no Task.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import NewTopic

from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.linked import LinkedEvent
from services.core import kafka_clients
from services.core.settings import Settings
from services.county.store import CountyStore
from services.referrals.current import CurrentNetwork
from services.referrals.lifecycle import Action
from services.referrals.messages import task_id
from services.referrals.request import referral_id_for
from services.referrals.service import ReferralService
from services.referrals.sla import ManualClock
from services.referrals.store import ReferralStore
from services.referrals.worker import build
from tests.integration.kafka_helpers import read_all
from tests.unit.referrals.networks import demo_county_pack
from tests.unit.referrals.support import CHELMSFORD, CLACTON, HARLOW, NOW, referral, sen_event

pytestmark = pytest.mark.integration
TENDRING, HARLOW_CODE, CHELMSFORD_CODE = "E07000076", "E07000073", "E07000070"


def topics(settings: Settings, bootstrap: str, unique: str) -> tuple[str, str, str]:
    source, sink, dlq = f"t.linked.{unique}", f"t.referrals.{unique}", f"t.dlq.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 3, 1), NewTopic(dlq, 1, 1)])
    admin.close()
    return source, sink, dlq


def send(settings: Settings, bootstrap: str, topic: str, events: list[LinkedEvent | bytes]) -> None:
    producer = kafka_clients.producer(settings, bootstrap)
    for item in events:
        if isinstance(item, bytes):
            producer.send(topic, key=b"poison", value=item, headers=[("source_partner", b"nhs-hv")])
        else:
            producer.send(topic, key=item.key, value=item.to_bytes(), headers=item.headers())
    producer.flush()
    producer.close()


def tasks_by_referral(records: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Task resources per referral id, in order, one per distinct message (event id)."""
    seen: set[str] = set()
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        event = HubEvent.from_bytes(record.value)
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        found[record.key.decode()].append(event.entries[0].resource)
    return found


def owner(task: dict[str, Any]) -> str:
    return str(task["owner"].get("identifier", {}).get("value", task["owner"]["display"]))


def run_until(app: Any, wait: Any) -> Any:
    async def go() -> Any:
        await app.start()
        try:
            return await wait()
        finally:
            await app.stop()

    return asyncio.run(go())


def loaded(settings: Settings) -> CurrentNetwork:
    """The demo county's pack loaded into the settings' county store, as `make run` loads it, and
    the network the worker follows from it."""
    county = CountyStore.in_data_dir(settings)
    county.add(demo_county_pack(), loaded_by="test")
    county.close()
    return CurrentNetwork.from_settings(settings)


def test_routing_scenarios_through_the_broker(tmp_path: Path, bootstrap: str, unique: str) -> None:
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0)
    network = loaded(settings)
    source, sink, dlq = topics(settings, bootstrap, unique)
    clock = ManualClock(NOW)
    home = referral("home", "early-help-referral", serial=1, family="f-home", postcode=CLACTON)
    send_22 = referral("send22", "youth-work-referral", serial=2, family="f-send", age=22, postcode=HARLOW)
    full = [
        referral(f"cap{n}", "send-referral", serial=10 + n, family=f"f-cap{n}", age=5, postcode=CHELMSFORD)
        for n in range(7)
    ]
    duplicate = referral("dup", "family-support-referral", serial=1, family="f-home", partner="school")
    send(
        settings,
        bootstrap,
        source,
        [sen_event("sen", serial=2, family="f-send"), home, send_22, b"{not a bundle", *full, duplicate],
    )
    app, service = build(
        settings, bootstrap, network, clock=clock, source=source, sink=sink, dlq=dlq, scan_interval_s=0.5,
        group=f"t-referrals-{unique}",
    )  # fmt: skip
    expected = 1 + 1 + 7 + 1

    async def scenario() -> tuple[list[Any], list[Any], list[Any]]:
        first = await asyncio.to_thread(read_all, settings, bootstrap, sink, expected, 60.0)
        rid = referral_id_for(send_22.event.event_id)
        # the inbox API's own connection to the same store, as in its own process
        inbox = ReferralService(ReferralStore.from_settings(settings), network, clock)
        await asyncio.to_thread(inbox.act, rid, Action.REJECT, "worker-harlow", "no transitions worker free")
        inbox.store.close()
        clock.advance(timedelta(days=3))  # past every 16-working-hour SLA
        later = await asyncio.to_thread(
            read_all, settings, bootstrap, sink, len(first) + 2 + expected - 1, 60.0
        )
        dead = await asyncio.to_thread(read_all, settings, bootstrap, dlq, 1, 30.0)
        return first, later, dead

    _, records, dead = run_until(app, scenario)
    tasks = tasks_by_referral(records)

    # home hub
    home_tasks = tasks[referral_id_for(home.event.event_id)]
    assert owner(home_tasks[0]) == "family-support@hub11"  # Tendring Family Hub
    # SEND young person of 22: the transitions service, not the under-19 youth service
    send_tasks = tasks[referral_id_for(send_22.event.event_id)]
    assert owner(send_tasks[0]) == "send-transitions@hub08"  # Harlow
    assert any(
        "dropped Youth service (11 to 18)" in n["text"] and "up to 18" in n["text"]
        for n in send_tasks[0]["note"]
    )
    # rejection re-routed: the declined Task, then a new Task at the next candidate
    statuses = [(t["id"], t["status"]) for t in send_tasks]
    rid = referral_id_for(send_22.event.event_id)
    assert (task_id(rid, 1), "rejected") in statuses
    second = next(t for t in send_tasks if t["id"] == task_id(rid, 2))
    assert owner(second).startswith("send-transitions@")
    assert owner(second) != "send-transitions@hub08"
    # capacity exhausted at home (6 places for families outside priority places) -> a neighbour
    owners = [owner(tasks[referral_id_for(e.event.event_id)][0]) for e in full]
    assert owners[:6] == ["send-family-support@hub05"] * 6  # Chelmsford Family Hub
    overflow = network.network().offer(owners[6])
    assert overflow is not None
    assert overflow.districts & set(network.network().districts[CHELMSFORD_CODE].neighbours)
    # duplicate linked to the family's open referral for the same need
    (linked_task,) = tasks[referral_id_for(duplicate.event.event_id)]
    assert linked_task["status"] == "cancelled"
    assert linked_task["partOf"][0]["identifier"]["value"] == referral_id_for(home.event.event_id)
    # SLA escalation after the clock advanced: the same Task, now urgent, with the reason
    escalated = [
        t
        for t in home_tasks
        if "escalated to the hub manager of Tendring Family Hubs" in t["statusReason"]["text"]
    ]
    assert len(escalated) == 1
    assert escalated[0]["id"] == home_tasks[0]["id"]  # still with the service
    assert escalated[0]["priority"] == "urgent"
    # the poison message was dead-lettered and everything after it still routed
    (letter,) = [DeadLetter.from_bytes(r.value) for r in dead]
    assert letter.original == b"{not a bundle"
    assert letter.connector == "worker:referrals"
    service.store.close()


def test_a_restart_mid_flight_loses_no_referral_and_duplicates_no_task(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0)
    network = loaded(settings)
    source, sink, dlq = topics(settings, bootstrap, unique)
    events = [
        referral(
            f"r{n}", "speech-and-language-referral", serial=100 + n, family=f"f{n}", age=3, postcode=CLACTON
        )
        for n in range(30)
    ]
    send(settings, bootstrap, source, list(events))
    group = f"t-referrals-{unique}"
    clock = ManualClock(NOW)

    # run 1: the store took the first 5 events, then the process died before producing or committing
    app, service = build(
        settings, bootstrap, network, clock=clock, source=source, sink=sink, dlq=dlq, group=group
    )
    for event in events[:5]:
        service.handle(event)
    service.store.close()

    # run 2: stopped as soon as 10 messages are out (a graceful stop, usually mid-stream)
    app, service = build(
        settings, bootstrap, network, clock=clock, source=source, sink=sink, dlq=dlq, group=group
    )
    run_until(app, lambda: asyncio.to_thread(read_all, settings, bootstrap, sink, 10, 60.0))
    service.store.close()

    # run 3: picks up where run 2 committed
    app, service = build(
        settings, bootstrap, network, clock=clock, source=source, sink=sink, dlq=dlq, group=group
    )
    records = run_until(app, lambda: asyncio.to_thread(read_all, settings, bootstrap, sink, 30, 60.0))
    assert service.store.outbox() == []
    service.store.close()

    by_event: dict[str, set[bytes]] = defaultdict(set)
    for record in records:
        by_event[HubEvent.from_bytes(record.value).event_id].add(record.value)
    assert all(len(bodies) == 1 for bodies in by_event.values())  # a re-send is byte-identical
    tasks = tasks_by_referral(records)
    assert set(tasks) == {referral_id_for(e.event.event_id) for e in events}  # no referral lost
    for rid, found in tasks.items():
        assert [t["id"] for t in found] == [task_id(rid, 1)]  # one Task each, never a second
