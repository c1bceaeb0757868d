"""The MLLP door's handler: each HL7 v2 message through the gateway's one ingest step, answered with
the ACK its outcome earns (real `hl7v2` connector; the transport is in test_mllp.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.hl7v2.ack import ack_code
from schemas.audit import AuditRecord
from schemas.errors import TransportError
from schemas.topics import AUDIT, DLQ, EVENTS
from services.gateway.hl7_feed import Hl7Feed
from services.gateway.ratelimit import RateLimiter
from services.gateway.service import Gateway, Limits
from tests.databases import Backend
from tests.unit.gateway.support import ListPublisher, add_partner, open_gateway

GOOD = (
    b"MSH|^~\\&|CHIS|ECH|HUBNET|FH|20250112093000+0000||ADT^A28^ADT_A05|C1|P|2.5\r"
    b"PID|1||9990001006^^^NHS^NH||TESTCHILD^Olivia||20250110|F\r"
)
PARTNER = "essex-chis"


@pytest.fixture
def publisher() -> ListPublisher:
    return ListPublisher()


@pytest.fixture
def gateway(backend: Backend, publisher: ListPublisher) -> Iterator[Gateway]:
    gateway = open_gateway(backend.settings(), publisher, Limits(max_body_bytes=2048, rate_per_s=1, burst=2))
    add_partner(gateway, PARTNER, org_ids=("ECH",), formats=("hl7v2",))
    yield gateway
    gateway.close()


def msa(ack: bytes) -> list[str]:
    return next(line.split("|") for line in ack.decode().split("\r") if line.startswith("MSA"))


def audits(publisher: ListPublisher) -> list[AuditRecord]:
    return [AuditRecord.from_bytes(m.value) for m in publisher.on(AUDIT)]


def test_own_message_is_aa_and_a_resend_is_recognised_by_the_ledger(
    gateway: Gateway, publisher: ListPublisher
) -> None:
    feed = Hl7Feed(gateway, PARTNER, "mllp:2575", sleep=lambda _s: None)
    assert ack_code(feed.message(GOOD)) == "AA"
    published = len(publisher.on(EVENTS))
    assert published
    assert ack_code(feed.message(GOOD)) == "AA"
    assert len(publisher.on(EVENTS)) == published, "the resend published nothing"


def test_foreign_msh4_is_ar_with_the_reason_audited_and_nothing_published(
    gateway: Gateway, publisher: ListPublisher
) -> None:
    ack = Hl7Feed(gateway, PARTNER, "mllp:2575").message(GOOD.replace(b"|ECH|", b"|RQ3|"))
    assert msa(ack)[1:3] == ["AR", "C1"]
    assert "RQ3" in msa(ack)[3]
    assert publisher.on(EVENTS) == []
    (audit,) = audits(publisher)
    assert (audit.actor, audit.outcome) == (PARTNER, "denied")


def test_revoked_partner_is_ar_and_audited(gateway: Gateway, publisher: ListPublisher) -> None:
    feed = Hl7Feed(gateway, PARTNER, "mllp:2575")
    gateway.partners.revoke(PARTNER)
    ack = feed.message(GOOD)
    assert msa(ack)[1] == "AR"
    assert "not an active partner" in msa(ack)[3]
    assert publisher.on(EVENTS) == []
    assert audits(publisher)[0].target == f"partner:{PARTNER}"


def test_format_not_registered_is_ar(gateway: Gateway, publisher: ListPublisher) -> None:
    add_partner(gateway, "school-a", org_ids=("ECH",), formats=("ctf",))
    ack = Hl7Feed(gateway, "school-a", "mllp:2575").message(GOOD)
    assert msa(ack)[1] == "AR"
    assert "format 'hl7v2'" in msa(ack)[3]


def test_forbidden_event_type_is_ar_and_audited(gateway: Gateway, publisher: ListPublisher) -> None:
    add_partner(gateway, "narrow", org_ids=("ECH",), formats=("hl7v2",), event_types=("immunisation",))
    ack = Hl7Feed(gateway, "narrow", "mllp:2575").message(GOOD)
    assert msa(ack)[1] == "AR"
    assert "may not publish event type" in msa(ack)[3]
    assert publisher.on(EVENTS) == []
    assert len(audits(publisher)) >= 1


def test_changed_body_under_the_same_record_version_is_ae_duplicate_key(
    gateway: Gateway, publisher: ListPublisher
) -> None:
    feed = Hl7Feed(gateway, PARTNER, "mllp:2575")
    assert ack_code(feed.message(GOOD)) == "AA"
    published = len(publisher.on(EVENTS))
    changed = feed.message(GOOD.replace(b"TESTCHILD^Olivia", b"TESTCHILD^Olive"))
    assert msa(changed)[1] == "AE"
    assert "new record version" in msa(changed)[3]
    assert "205^Duplicate key identifier" in changed.decode()
    assert len(publisher.on(EVENTS)) == published


def test_a_message_over_the_size_limit_is_ar_and_audited(gateway: Gateway, publisher: ListPublisher) -> None:
    feed = Hl7Feed(gateway, PARTNER, "mllp:2575")
    big = GOOD + b"NTE|1||" + b"x" * 4000 + b"\r"
    assert "2048 bytes" in msa(feed.message(big))[3]
    assert "2048 bytes" in msa(feed.oversize(GOOD, 2048))[3]
    assert [a.outcome for a in audits(publisher)] == ["denied", "denied"]
    assert publisher.on(EVENTS) == []


def test_a_bad_value_is_ae_and_dead_lettered(gateway: Gateway, publisher: ListPublisher) -> None:
    ack = Hl7Feed(gateway, PARTNER, "mllp:2575").message(GOOD.replace(b"9990001006", b"9990001007"))
    assert msa(ack)[1] == "AE"
    assert len(publisher.on(DLQ)) == 1


def test_over_the_rate_the_feed_waits_instead_of_refusing(gateway: Gateway) -> None:
    now = [0.0]
    gateway.limiter = RateLimiter(1.0, 1, clock=lambda: now[0])
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    feed = Hl7Feed(gateway, PARTNER, "mllp:2575", sleep=sleep)
    assert ack_code(feed.message(GOOD)) == "AA"
    assert ack_code(feed.message(GOOD)) == "AA"
    assert waited == [pytest.approx(1.0)]


def test_a_broker_or_store_failure_sends_no_ack(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_args: object, **_kwargs: object) -> None:
        raise TransportError("outbox unavailable")

    monkeypatch.setattr(gateway.submissions, "submit", down)
    with pytest.raises(TransportError):
        Hl7Feed(gateway, PARTNER, "mllp:2575").message(GOOD)


def test_an_unexpected_fault_is_ar_naming_its_kind_not_a_crash(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def recursion(*_args: object, **_kwargs: object) -> None:
        raise RecursionError

    monkeypatch.setattr(gateway.submissions, "submit", recursion)
    ack = Hl7Feed(gateway, PARTNER, "mllp:2575").message(GOOD)
    assert msa(ack)[1] == "AR"
    assert "RecursionError" in msa(ack)[3]
