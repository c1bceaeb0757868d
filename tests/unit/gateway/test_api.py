"""The partner API through FastAPI's in-process client: every status the issue names, and idempotency.

Uses the `test-lines` connector from `support`, so these tests do not depend on any real format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from schemas.audit import AuditRecord
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.topics import AUDIT, DLQ, EVENTS
from services.gateway.app import create_app
from services.gateway.service import Gateway, Limits
from tests.databases import Backend
from tests.unit.gateway.support import FORMAT, ListPublisher, add_partner, line, open_gateway

BATCH = "\n".join([line("r1", 1), line("r2", 2), "r3,1,9990000000,encounter", line("r4", 4)]).encode()


@pytest.fixture
def publisher() -> ListPublisher:
    return ListPublisher()


@pytest.fixture
def gateway(backend: Backend, publisher: ListPublisher) -> Iterator[Gateway]:
    """On SQLite and on PostgreSQL: partners, keys and statuses run the same SQL on both."""
    limits = Limits(max_body_bytes=4096, rate_per_s=1000, burst=1000)
    gateway = open_gateway(backend.settings(), publisher, limits)
    yield gateway
    gateway.close()


@pytest.fixture
def client(gateway: Gateway) -> TestClient:
    return TestClient(create_app(gateway), raise_server_exceptions=False)


@pytest.fixture
def key(gateway: Gateway) -> str:
    return add_partner(gateway, formats=(FORMAT,), event_types=("encounter", "immunisation"))


def post(client: TestClient, key: str, body: bytes, path: str = f"/v1/events/{FORMAT}") -> httpx.Response:
    return client.post(path, content=body, headers={"X-API-Key": key, "Content-Type": "text/plain"})


def test_batch_is_queued_with_one_result_per_record_and_bad_record_dead_lettered(
    client: TestClient, key: str, publisher: ListPublisher
) -> None:
    response = client.post(f"/v1/events/{FORMAT}", content=BATCH, headers={"X-API-Key": key})
    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (3, 1, 0)
    assert [i["status"] for i in body["items"]] == ["accepted", "accepted", "rejected", "accepted"]
    bad = body["items"][2]
    assert bad["location"] == "line 3, column nhs_number"
    assert "check digit" in bad["reason"]
    assert "9990000000" not in response.text  # the reason never echoes the value
    events = [HubEvent.from_bytes(m.value) for m in publisher.on(EVENTS)]
    assert [e.event_id for e in events] == [i["event_id"] for i in body["items"] if i["event_id"]]
    assert {e.source_partner for e in events} == {"nelft-hv"}
    (dead,) = [DeadLetter.from_bytes(m.value) for m in publisher.on(DLQ)]
    assert dead.dead_letter_id == bad["dead_letter_id"]
    assert dead.original == b"r3,1,9990000000,encounter"


def test_resent_input_returns_the_first_result_and_publishes_nothing_new(
    client: TestClient, key: str, publisher: ListPublisher
) -> None:
    first = post(client, key, BATCH).json()
    published = len(publisher.messages)
    again = post(client, key, BATCH)
    assert again.status_code == 202
    body = again.json()
    assert len(publisher.messages) == published
    assert body["duplicates"] == 4
    assert [i["event_id"] for i in body["items"]] == [i["event_id"] for i in first["items"]]
    assert all(i["first_seen_at"] for i in body["items"])


def test_same_record_twice_in_one_batch_is_queued_once(
    client: TestClient, key: str, publisher: ListPublisher
) -> None:
    body = post(client, key, f"{line('r1')}\n{line('r1')}".encode()).json()
    assert [i["duplicate"] for i in body["items"]] == [False, True]
    assert len(publisher.on(EVENTS)) == 1


def test_resend_of_a_record_version_with_a_changed_body_is_409_and_audited_not_a_silent_duplicate(
    client: TestClient, key: str, publisher: ListPublisher
) -> None:
    assert post(client, key, line("r1", 1).encode()).status_code == 202
    changed = post(client, key, line("r1", 2).encode())  # same record id and version, other content
    assert changed.status_code == 409
    problem = changed.json()
    assert problem["type"].endswith("/conflict")
    assert "new record version" in problem["detail"]
    (item,) = problem["result"]["items"]
    assert (item["status"], item["conflict"]) == ("refused", True)
    assert len(publisher.on(EVENTS)) == 1, "the correction was not published as if it were the first"
    (audit,) = [AuditRecord.from_bytes(m.value) for m in publisher.on(AUDIT)]
    assert (audit.outcome, audit.target) == ("denied", item["event_id"])
    assert post(client, key, line("r1", 1).encode()).json()["duplicates"] == 1  # the same body still is
    corrected = post(client, key, line("r1", 2, version="2").encode())
    assert (corrected.status_code, corrected.json()["accepted"]) == (202, 1)


def test_changed_body_in_a_batch_is_refused_per_item_and_the_rest_accepted(
    client: TestClient, key: str, publisher: ListPublisher
) -> None:
    post(client, key, line("r1", 1).encode())
    body = post(client, key, f"{line('r1', 2)}\n{line('r2', 3)}".encode()).json()
    assert [(i["status"], i["conflict"]) for i in body["items"]] == [("refused", True), ("accepted", False)]
    assert (body["refused"], body["conflicts"]) == (1, 1)


def test_validate_runs_the_checks_and_publishes_nothing(
    client: TestClient, key: str, publisher: ListPublisher, gateway: Gateway
) -> None:
    response = post(client, key, BATCH, path=f"/v1/validate/{FORMAT}")
    assert response.status_code == 200
    body = response.json()
    assert (body["published"], body["accepted"], body["rejected"]) == (False, 3, 1)
    assert publisher.messages == []
    assert gateway.statuses.get(body["items"][0]["event_id"]) is None


def test_event_status_accepted_dead_lettered_or_unknown(
    client: TestClient, key: str, gateway: Gateway
) -> None:
    items = post(client, key, BATCH).json()["items"]
    headers = {"X-API-Key": key}
    accepted = client.get(f"/v1/events/{items[0]['event_id']}", headers=headers).json()
    assert (accepted["status"], accepted["event_type"]) == ("accepted", "encounter")
    dead = client.get(f"/v1/events/{items[2]['dead_letter_id']}", headers=headers).json()
    assert dead["status"] == "dead-lettered"
    assert dead["location"] == "line 3, column nhs_number"
    unknown = client.get("/v1/events/no-such-id", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["event_status"] == "unknown"
    other = add_partner(gateway, "essex-csc", formats=(FORMAT,))
    assert client.get(f"/v1/events/{items[0]['event_id']}", headers={"X-API-Key": other}).status_code == 404


def test_partners_me_says_who_and_what(client: TestClient, key: str) -> None:
    me = client.get("/v1/partners/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert (me["code"], me["org_ids"], me["formats"]) == ("nelft-hv", ["RAT"], [FORMAT])
    assert me["key"]["key_id"] in key
    assert key not in orjson.dumps(me).decode()


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "nonsense"}, {"Authorization": "Bearer hubnet_000000000000_" + "a" * 43}],
    ids=["none", "malformed", "unknown"],
)
def test_no_or_bad_key_is_401_problem(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post(f"/v1/events/{FORMAT}", content=BATCH, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/unauthenticated")
    assert "WWW-Authenticate" in response.headers


def test_revoked_and_rotated_keys(client: TestClient, key: str, gateway: Gateway) -> None:
    from datetime import timedelta

    new = gateway.partners.rotate_key("nelft-hv", overlap=timedelta(hours=1)).token
    assert client.get("/v1/partners/me", headers={"X-API-Key": key}).status_code == 200  # overlap
    newest = gateway.partners.rotate_key("nelft-hv", overlap=timedelta(0)).token
    assert client.get("/v1/partners/me", headers={"X-API-Key": key}).status_code == 401  # expired
    assert client.get("/v1/partners/me", headers={"X-API-Key": new}).status_code == 401
    assert client.get("/v1/partners/me", headers={"X-API-Key": newest}).status_code == 200
    gateway.partners.revoke("nelft-hv")
    assert client.get("/v1/partners/me", headers={"X-API-Key": newest}).status_code == 401


def test_unknown_format_is_404(client: TestClient, key: str) -> None:
    response = post(client, key, BATCH, path="/v1/events/no-such-format")
    assert response.status_code == 404
    assert "unknown format" in response.json()["detail"]


def test_format_not_registered_to_partner_is_403_and_audited(
    client: TestClient, gateway: Gateway, publisher: ListPublisher
) -> None:
    key = add_partner(gateway, "school-a", formats=("ctf",))
    response = post(client, key, BATCH)
    assert response.status_code == 403
    (audit,) = [AuditRecord.from_bytes(m.value) for m in publisher.on(AUDIT)]
    assert (audit.actor, audit.outcome, audit.target) == ("school-a", "denied", f"format:{FORMAT}")
    assert publisher.on(EVENTS) == []


def test_message_claiming_another_sender_is_403_and_audited(
    client: TestClient, key: str, publisher: ListPublisher
) -> None:
    own = post(client, key, line("r1", sender="rat").encode())
    assert own.status_code == 202  # own ODS code, any case
    other = post(client, key, line("r2", sender="RQ3").encode())
    assert other.status_code == 403
    assert "RQ3" in other.json()["detail"]
    assert len(publisher.on(EVENTS)) == 1
    (audit,) = [AuditRecord.from_bytes(m.value) for m in publisher.on(AUDIT)]
    assert audit.actor == "nelft-hv"


def test_event_type_not_allowed_is_refused_per_item(
    client: TestClient, key: str, publisher: ListPublisher
) -> None:
    body = post(client, key, f"{line('r1')}\n{line('r2', code='admission')}".encode()).json()
    assert [i["status"] for i in body["items"]] == ["accepted", "refused"]
    assert len(publisher.on(EVENTS)) == 1
    assert len(publisher.on(AUDIT)) == 1


def test_all_records_rejected_is_422_with_field_paths(client: TestClient, key: str) -> None:
    response = post(client, key, b"r1,1,9990000000,encounter\nr2,1")
    assert response.status_code == 422
    problem = response.json()
    assert [e["location"] for e in problem["errors"]] == [
        "line 1, column nhs_number",
        "line 2, column event_type",
    ]
    assert problem["result"]["rejected"] == 2


def test_oversized_body_is_413_and_empty_body_400(client: TestClient, key: str) -> None:
    assert post(client, key, b"x" * 5000).status_code == 413
    assert post(client, key, b"").status_code == 400


def test_rate_limit_is_429_with_retry_after(tmp_path: Path, publisher: ListPublisher) -> None:
    gateway = open_gateway(tmp_path, publisher, Limits(rate_per_s=0.1, burst=2))
    key = add_partner(gateway, formats=(FORMAT,))
    client = TestClient(create_app(gateway))
    statuses = [post(client, key, line(f"r{n}").encode()).status_code for n in range(3)]
    assert statuses == [202, 202, 429]
    limited = post(client, key, line("r9").encode())
    assert int(limited.headers["Retry-After"]) >= 1
    gateway.close()


def test_unknown_route_is_a_problem_too(client: TestClient) -> None:
    response = client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_published_openapi_document_is_current() -> None:
    """docs/partners/openapi.json is what partners read: regenerate with `hubnet serve openapi`."""
    from services.gateway.app import build_app

    published = Path(__file__).resolve().parents[3] / "docs" / "partners" / "openapi.json"
    assert orjson.loads(published.read_bytes()) == orjson.loads(orjson.dumps(build_app().openapi()))


def test_gateway_traffic_counts_in_the_shared_metrics(client: TestClient, key: str) -> None:
    from prometheus_client import REGISTRY

    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name, {"connector": FORMAT, "partner": "nelft-hv"}) or 0.0

    before = {n: value(n) for n in ("hubnet_events_accepted_total", "hubnet_records_rejected_total")}
    assert post(client, key, BATCH).status_code == 202
    assert value("hubnet_events_accepted_total") - before["hubnet_events_accepted_total"] == 3
    assert value("hubnet_records_rejected_total") - before["hubnet_records_rejected_total"] == 1
    assert post(client, key, BATCH, path=f"/v1/validate/{FORMAT}").status_code == 200
    assert value("hubnet_events_accepted_total") - before["hubnet_events_accepted_total"] == 3, (
        "sandbox counts nothing"
    )
