"""One ingest step for every door (issue #18, findings 3, 5, 6, 9a, 9b): each guarantee is tried at
each door a partner can reach, over its real boundary: HTTP (a real server on loopback), the file
drop (real files in a real inbox) and MLLP (a real TCP listener). Every refusal must come back with
a clear reason, be audited on `fh.audit`, and publish nothing.

The operator's dead-letter replay goes through the same step as the letter's partner (last test
here; tests/integration/test_dlq_tooling.py and test_ops_page.py over the real broker).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from connectors.hl7v2.ack import ack_code
from connectors.input_limits import InputLimits
from schemas.audit import AuditRecord
from schemas.dead_letter import DeadLetter
from schemas.topics import AUDIT, DLQ, EVENTS
from services.gateway.app import create_app
from services.gateway.filedrop import FileDrop
from services.gateway.hl7_feed import Hl7Feed
from services.gateway.mllp import Limits as MllpLimits
from services.gateway.mllp import send_mllp, serve_mllp
from services.gateway.replays import ReplayDoor
from services.gateway.service import Gateway, Limits
from services.ops import dead_letters
from services.ops.dead_letters import Entry
from tests.e2e.serving import served
from tests.unit.gateway.support import ListPublisher, add_partner, open_gateway

pytestmark = pytest.mark.security
PARTNER = "essex-chis"
MAX_BYTES = 4096
MAX_NODES = 40
GOOD = (
    b"MSH|^~\\&|CHIS|ECH|HUBNET|FH|20250112093000+0000||ADT^A28^ADT_A05|C1|P|2.5\r"
    b"PID|1||9990001006^^^NHS^NH||TESTCHILD^Olivia||20250110|F\r"
)
FOREIGN = GOOD.replace(b"|ECH|", b"|RQ3|").replace(b"|C1|", b"|C2|").replace(b"9990001006", b"9990001014")
DOORS = ("http", "file-drop", "mllp")


@dataclass(frozen=True)
class Answer:
    """What a door told the sender, in one shape: taken or refused, and why."""

    accepted: bool
    reason: str


Send = Callable[[bytes], Answer]


def http_door(gateway: Gateway, key: str, fmt: str = "hl7v2") -> Iterator[Send]:
    with served(create_app(gateway)) as url, httpx.Client(base_url=url, timeout=30) as client:

        def send(data: bytes) -> Answer:
            response = client.post(f"/v1/events/{fmt}", content=data, headers={"X-API-Key": key})
            body = response.json()
            if response.status_code in {200, 202}:
                return Answer(True, "")
            return Answer(False, str(body.get("detail") or body.get("title")))

        yield send


def file_door(gateway: Gateway, root: Path, fmt: str = "hl7v2") -> Iterator[Send]:
    inbox = root / PARTNER / fmt / "incoming"
    inbox.mkdir(parents=True)
    sent = iter(range(1_000_000))

    def send(data: bytes) -> Answer:
        path = inbox / f"message-{next(sent)}.txt"
        path.write_bytes(data)
        os.utime(path, (1, 1))
        (outcome,) = FileDrop(root, gateway).scan()
        report = outcome.report
        reasons = [str(report.get("error", ""))] + [i.get("reason") or "" for i in report.get("items", [])]
        return Answer(outcome.state == "done", " ".join(r for r in reasons if r))

    yield send


def mllp_door(gateway: Gateway) -> Iterator[Send]:
    loop = asyncio.new_event_loop()
    limits = MllpLimits(max_message_bytes=MAX_BYTES, idle_timeout_s=10, max_connections=4)
    server = loop.run_until_complete(
        serve_mllp("127.0.0.1", 0, Hl7Feed(gateway, PARTNER, "mllp").handler(), limits)
    )
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def send(data: bytes) -> Answer:
        ack = send_mllp("127.0.0.1", port, data, timeout=30)
        msa = next(line for line in ack.decode().split("\r") if line.startswith("MSA")).split("|")
        return Answer(ack_code(ack) == "AA", msa[3] if len(msa) > 3 else "")

    yield send

    async def shutdown() -> None:
        server.close()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()

    asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@dataclass
class World:
    gateway: Gateway
    publisher: ListPublisher
    tmp_path: Path
    door: str

    def register(self, **fields: object) -> str:
        values: dict[str, object] = {"org_ids": ("ECH",), "formats": ("hl7v2",)} | fields
        return add_partner(self.gateway, PARTNER, **values)

    def open(self, key: str, fmt: str = "hl7v2") -> Iterator[Send]:
        if self.door == "http":
            return http_door(self.gateway, key, fmt)
        if self.door == "file-drop":
            return file_door(self.gateway, self.tmp_path / "drop", fmt)
        return mllp_door(self.gateway)

    def refusals(self) -> list[AuditRecord]:
        audits = [AuditRecord.from_bytes(m.value) for m in self.publisher.on(AUDIT)]
        return [a for a in audits if a.outcome == "denied"]


def _world(door: str, tmp_path: Path, caps: InputLimits) -> Iterator[World]:
    publisher = ListPublisher()
    limits = Limits(max_body_bytes=MAX_BYTES, rate_per_s=1000, burst=1000, input=caps)
    gateway = open_gateway(tmp_path / "gateway", publisher, limits)
    yield World(gateway, publisher, tmp_path, door)
    gateway.close()


@pytest.fixture(params=DOORS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from _world(request.param, tmp_path, InputLimits())


@pytest.fixture(params=DOORS)
def few_nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A world whose inputs may hold at most `MAX_NODES` nested values (HL7 v2 segments)."""
    yield from _world(request.param, tmp_path, InputLimits(max_nodes=MAX_NODES))


def refused(world: World, answer: Answer, *words: str) -> None:
    """Refused, with a reason naming the words, audited with that reason, and nothing published."""
    assert not answer.accepted
    for word in words:
        assert word in answer.reason, f"the sender is told why: {answer.reason!r}"
    audits = world.refusals()
    assert audits, "the refusal is audited"
    assert any(all(w in (a.reason or "") for w in words) for a in audits), "audited with its reason"
    assert world.publisher.on(EVENTS) == []


def test_revoked_partner_is_refused_at_every_door(world: World) -> None:
    key = world.register()
    for send in world.open(key):
        world.gateway.partners.revoke(PARTNER)
        answer = send(GOOD)
        refused(world, answer)
        assert answer.reason


def test_format_not_registered_to_the_partner_is_refused_at_every_door(world: World) -> None:
    key = world.register(formats=("ctf",))
    for send in world.open(key):
        refused(world, send(GOOD), "format 'hl7v2'")


def test_event_type_not_registered_to_the_partner_is_refused_at_every_door(world: World) -> None:
    key = world.register(event_types=("immunisation",))
    for send in world.open(key):
        refused(world, send(GOOD), "may not publish event type")


@pytest.mark.parametrize(
    "data",
    [FOREIGN, GOOD + b"\x0b" + FOREIGN, GOOD + b"\xef\xbb\xbf" + FOREIGN],
    ids=["foreign MSH-4", "behind an MLLP start byte", "behind a BOM"],
)
def test_foreign_claimed_sender_is_refused_at_every_door(world: World, data: bytes) -> None:
    key = world.register()
    for send in world.open(key):
        refused(world, send(data), "RQ3")


def test_duplicate_is_recognised_by_the_ledger_at_every_door(world: World) -> None:
    key = world.register()
    for send in world.open(key):
        assert send(GOOD).accepted
        published = len(world.publisher.on(EVENTS))
        assert published
        assert send(GOOD).accepted
        assert len(world.publisher.on(EVENTS)) == published, "a resend publishes nothing new"


def test_changed_body_under_the_same_record_version_is_refused_at_every_door(world: World) -> None:
    key = world.register()
    for send in world.open(key):
        assert send(GOOD).accepted
        published = len(world.publisher.on(EVENTS))
        answer = send(GOOD.replace(b"TESTCHILD^Olivia", b"TESTCHILD^Olive"))
        assert not answer.accepted
        assert "new record version" in answer.reason
        assert any("new record version" in (a.reason or "") for a in world.refusals())
        assert len(world.publisher.on(EVENTS)) == published, "the first version stands"


def test_input_over_the_size_limit_is_refused_at_every_door(world: World) -> None:
    key = world.register()
    for send in world.open(key):
        answer = send(GOOD + b"NTE|1||" + b"x" * (2 * MAX_BYTES) + b"\r")
        refused(world, answer, str(MAX_BYTES))


def test_an_hl7_message_over_the_segment_cap_is_refused_at_every_door(few_nodes: World) -> None:
    """Counted on the bytes before the message is parsed (an ORU of 750,000 OBX took 609 MB to
    parse): the sender is told the count, the cap, the setting and to split the message, and nothing
    is published. (Like every input-cap refusal, it is answered, not audited as a partner refusal.)"""
    key = few_nodes.register()
    obx = b"OBX|1|NM|||1|\r"
    for send in few_nodes.open(key):
        answer = send(GOOD + obx * (MAX_NODES - 1))
        assert not answer.accepted
        count = f"more than {MAX_NODES} HL7 v2 segments ({MAX_NODES + 1})"
        for words in (count, "HUBNET_INGEST_MAX_NODES", "split the message"):
            assert words in answer.reason, answer.reason
        assert few_nodes.publisher.on(EVENTS) == []
        at_cap = send(GOOD.replace(b"|C1|", b"|C2|") + obx * (MAX_NODES - 2))
        assert at_cap.accepted, f"a message at the cap is parsed and mapped: {at_cap.reason!r}"
        assert few_nodes.publisher.on(EVENTS), "its event is published"


@pytest.mark.parametrize("door", ["http", "file-drop"])
def test_fhir_sender_given_only_by_reference_is_checked(tmp_path: Path, door: str) -> None:
    publisher = ListPublisher()
    gateway = open_gateway(tmp_path / "gateway", publisher)
    world = World(gateway, publisher, tmp_path, door)
    key = world.register(org_ids=("RAT",), formats=("fhir",))
    organisation = {
        "fullUrl": "urn:uuid:5a9e2c1f-0000-4000-8000-000000000001",
        "resource": {
            "resourceType": "Organization",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RQ3"}],
        },
    }
    header = {"resourceType": "MessageHeader", "sender": {"reference": organisation["fullUrl"]},
              "eventCoding": {"code": "patient-update"}, "source": {"endpoint": "urn:x"}}  # fmt: skip
    bundle = {"resourceType": "Bundle", "type": "message",
              "entry": [{"fullUrl": "urn:uuid:h", "resource": header}, organisation]}  # fmt: skip
    dangling = {**bundle, "entry": bundle["entry"][:1]}
    try:
        for send in world.open(key, "fhir"):
            refused(world, send(orjson.dumps(bundle)), "RQ3")
            refused(world, send(orjson.dumps(dangling)), "MessageHeader.sender")
    finally:
        gateway.close()


def test_symlink_to_the_session_secret_is_never_read_by_the_file_drop(tmp_path: Path) -> None:
    """Finding 3: the link's target never reaches a dead letter an operator can read."""
    publisher = ListPublisher()
    gateway = open_gateway(tmp_path / "gateway", publisher)
    add_partner(gateway, PARTNER, org_ids=("ECH",), formats=("hl7v2",))
    secret = tmp_path / "session-secret"
    secret.write_bytes(b"s" * 32)
    inbox = tmp_path / "drop" / PARTNER / "hl7v2" / "incoming"
    inbox.mkdir(parents=True)
    (inbox / "secret.hl7").symlink_to(secret)
    started = time.monotonic()
    (outcome,) = FileDrop(tmp_path / "drop", gateway).scan()
    gateway.close()
    assert time.monotonic() - started < 10
    assert outcome.state == "failed"
    assert "symbolic link" in str(outcome.report["error"])
    assert publisher.on(DLQ) == []
    assert publisher.on(EVENTS) == []
    assert all(b"s" * 32 not in m.value for m in publisher.messages)


def test_dead_letter_replay_goes_as_its_partner_through_the_same_checks(tmp_path: Path) -> None:
    """The operator's door: explicit (audited as acting for the partner) and held to the partner's
    registration like every other door."""
    publisher = ListPublisher()
    gateway = open_gateway(tmp_path / "gateway", publisher)
    add_partner(gateway, PARTNER, org_ids=("ECH",), formats=("hl7v2",))
    door = ReplayDoor(gateway, "ops-person", "test replay")

    def letter(original: bytes) -> Entry:
        return Entry(DeadLetter.create(connector="hl7v2", partner=PARTNER, reason="was broken",
                                       original=original, trace_id="t"))  # fmt: skip

    foreign, good = letter(FOREIGN), letter(GOOD)
    report = dead_letters.replay([foreign, good], publisher, "ops-person", door=door)
    assert [d for d, _ in report.replayed] == [good.letter.dead_letter_id]
    ((_, why),) = report.still_failing
    assert "RQ3" in why
    audits = [AuditRecord.from_bytes(m.value) for m in publisher.on(AUDIT)]
    assert any(a.action == "events.replay" and a.actor == "ops-person" for a in audits)
    assert any(a.outcome == "denied" and "RQ3" in (a.reason or "") for a in audits)
    published = len(publisher.on(EVENTS))
    assert published

    gateway.partners.revoke(PARTNER)
    again = dead_letters.replay([letter(GOOD.replace(b"|C1|", b"|C9|"))], publisher, "ops-person", door=door)
    gateway.close()
    ((_, why),) = again.still_failing
    assert "not an active partner" in why
    assert len(publisher.on(EVENTS)) == published
