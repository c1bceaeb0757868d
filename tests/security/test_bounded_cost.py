"""Bounded cost per input (issue #18, findings 4 and 6): what one partner input may cost hubnet.

A 2 MB JSON array of empty objects became a 347 MB answer and 5.6 GB of memory; deep nesting, huge
integers and oversize CSV cells were answered 503 "retry later" (or dead-lettered as "a hubnet
fault") instead of 422 with a reason. Here, through the partner API's app and the file drop with
the real connectors: every malformed input in every format is a 422 with a reason; an input over
the record or record-bytes cap is refused 413 naming the cap, with nothing queued; an answer lists
the first reasons and counts the rest; an overlong reason is cut in the dead letter too. The same
answers through a real HTTP server, with their size in bytes: tests/security/test_bounded_cost_http.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from connectors import registry
from connectors.base import Record, Rejection, SourceContext
from connectors.hl7v2.ack import ack_code
from connectors.input_limits import MAX_LOCATION_CHARS, MAX_REASON_CHARS, InputLimits
from connectors.social_care.connector import CscEventsConnector
from connectors.vcs.connector import CSV_REQUIRED
from schemas.envelope import HubEvent
from schemas.topics import DLQ, EVENTS
from services.cli.main import app as cli
from services.core.dead_letters import dead_letter_for
from services.gateway.app import create_app
from services.gateway.filedrop import FileDrop
from services.gateway.hl7_feed import Hl7Feed
from services.gateway.service import Gateway, Limits
from tests.unit.gateway.support import ListPublisher, add_partner, open_gateway

pytestmark = pytest.mark.security
DEPTH = 100_000

MALFORMED: dict[str, bytes] = {
    "JSON arrays nested 100,000 deep": b"[" * DEPTH + b"]" * DEPTH,
    "JSON objects nested 100,000 deep": b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    "a 5,000-digit integer in a JSON array": b'[{"record_id": ' + b"9" * 5000 + b"}]",
    "a 5,000-digit integer in a FHIR resource": b'{"resourceType":"Patient","x":' + b"9" * 5000 + b"}",
    "XML elements nested 100,000 deep": b"<a>" * DEPTH + b"</a>" * DEPTH,
    "a CSV cell of 200,000 characters": b'a,b\n"' + b"x" * 200_000 + b'",1\n',
    "a CSV header of 200,000 characters": b"x" * 200_000 + b",b\n1,2\n",
    "bytes that are not UTF-8": b"\xff\xfe\xfa" * 10,
}


Api = tuple[TestClient, str]


@pytest.fixture
def publisher() -> ListPublisher:
    return ListPublisher()


def _client(tmp_path: Path, publisher: ListPublisher, limits: InputLimits) -> Iterator[Api]:
    gateway = open_gateway(tmp_path, publisher, Limits(rate_per_s=1e6, burst=10**6, input=limits))
    key = add_partner(gateway, "cost-probe", formats=tuple(registry.formats()))
    with TestClient(create_app(gateway), raise_server_exceptions=False) as client:
        yield client, key
    gateway.close()


@pytest.fixture
def api(tmp_path: Path, publisher: ListPublisher) -> Iterator[Api]:
    yield from _client(tmp_path, publisher, InputLimits())


@pytest.fixture
def capped(tmp_path: Path, publisher: ListPublisher) -> Iterator[Api]:
    yield from _client(tmp_path, publisher, InputLimits(max_records=50, max_errors=5))


def _post(api: Api, fmt: str, body: bytes, publish: bool = False) -> Any:
    client, key = api
    return client.post(
        f"/v1/{'events' if publish else 'validate'}/{fmt}", content=body, headers={"X-API-Key": key}
    )


@pytest.mark.parametrize("kind", MALFORMED)
def test_malformed_input_is_422_with_a_reason_in_every_format(api: Api, kind: str) -> None:
    for fmt in registry.formats():
        response = _post(api, fmt, MALFORMED[kind])
        assert response.status_code == 422, (fmt, response.status_code, response.text[:300])
        problem = response.json()
        reasons = [error["reason"] for error in problem["errors"]]
        assert reasons, (fmt, problem)
        assert all(reasons), (fmt, problem)
        assert not any("hubnet fault" in reason for reason in reasons), (fmt, reasons)


@pytest.mark.parametrize(
    ("fmt", "kind", "said"),
    [
        ("fhir", "JSON objects nested 100,000 deep", "nested too deeply"),
        ("vcs-json", "JSON arrays nested 100,000 deep", "nested too deeply"),
        ("fhir", "a 5,000-digit integer in a FHIR resource", "more than 4,300 digits"),
        ("vcs-json", "a 5,000-digit integer in a JSON array", "more than 4,300 digits"),
        ("vcs-csv", "a CSV header of 200,000 characters", "longer than 131,072 characters"),
        ("attendance-csv", "a CSV header of 200,000 characters", "longer than 131,072 characters"),
    ],
)
def test_the_reason_says_what_is_malformed(api: Api, fmt: str, kind: str, said: str) -> None:
    response = _post(api, fmt, MALFORMED[kind])
    assert response.status_code == 422
    assert said in response.json()["errors"][0]["reason"]


def test_an_input_over_the_record_cap_is_refused_413_naming_the_cap_and_nothing_is_queued(
    capped: Api, publisher: ListPublisher
) -> None:
    response = _post(capped, "csc-events", b"[" + b",".join([b"{}"] * 51) + b"]", publish=True)
    assert response.status_code == 413
    problem = response.json()
    assert problem["type"].endswith("/too-many-records")
    assert "more than 50 records" in problem["detail"]
    assert "split" in problem["detail"]
    assert publisher.on(EVENTS) == []
    assert publisher.on(DLQ) == []


def test_an_input_at_the_record_cap_is_checked(capped: Api) -> None:
    response = _post(capped, "csc-events", b"[" + b",".join([b"{}"] * 50) + b"]")
    assert response.status_code == 422
    assert response.json()["result"]["rejected"] == 50


def test_csv_rows_that_add_up_past_the_record_bytes_cap_are_refused_413(
    api: Api, publisher: ListPublisher
) -> None:
    """Each CSV record carries its header line: a 100 KiB header (the required columns, then unknown
    ones, which the format allows) and 400 one-character rows came to 40 MiB of records out of a
    100 KiB body."""
    padding = b",".join(b"c%05d" % n for n in range(100 * 1024 // 7))
    header = ",".join(CSV_REQUIRED).encode() + b"," + padding
    response = _post(api, "vcs-csv", header + b"\n" + b"x\n" * 400, publish=True)
    assert response.status_code == 413
    assert "add up to more than 16 MiB" in response.json()["detail"]
    assert publisher.on(EVENTS) == []
    assert publisher.on(DLQ) == []


def test_an_answer_lists_the_first_reasons_and_counts_the_rest(capped: Api) -> None:
    response = _post(capped, "csc-events", b"[" + b",".join([b"{}"] * 30) + b"]")
    assert response.status_code == 422
    problem = response.json()
    assert len(problem["errors"]) == 5
    assert problem["errors_omitted"] == 25
    assert "the first 5 are listed" in problem["detail"]
    items = problem["result"]["items"]
    assert len(items) == 30
    assert problem["result"]["reasons_omitted"] == 25
    assert [bool(item["reason"]) for item in items] == [True] * 5 + [False] * 25
    assert all(item["dead_letter_id"] for item in items), "every record keeps its dead letter to look up"


def test_an_overlong_reason_and_location_are_cut_in_the_dead_letter() -> None:
    rejection = Rejection(reason="x" * 1_000_000, original=b"{}", location="$." + "k" * 100_000)
    dead = dead_letter_for(rejection, "csc-events", SourceContext(partner="cost-probe"))
    assert len(dead.reason) <= MAX_REASON_CHARS
    assert "more characters not shown" in dead.reason
    assert dead.location is not None
    assert len(dead.location) <= MAX_LOCATION_CHARS


def test_a_connector_mapping_bug_is_still_reported_as_a_hubnet_fault() -> None:
    """The classification is narrow: an error that is not about the input stays a fault."""

    class Broken(CscEventsConnector):
        def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
            raise ValueError("a bug")

    outcomes = list(Broken().convert(b'[{"record_id": "1"}]', SourceContext(partner="cost-probe")))
    assert isinstance(outcomes[0], Rejection)
    assert "hubnet fault" in outcomes[0].reason


def test_a_dropped_file_over_the_record_cap_fails_with_a_report_and_the_watcher_goes_on(
    tmp_path: Path, publisher: ListPublisher
) -> None:
    gateway: Gateway = open_gateway(tmp_path / "data", publisher, Limits(input=InputLimits(max_records=50)))
    add_partner(gateway, "cost-probe", formats=("csc-events",))
    inbox = tmp_path / "drop" / "cost-probe" / "csc-events" / "incoming"
    inbox.mkdir(parents=True)
    for name, count in (("big.json", 51), ("small.json", 3)):
        (inbox / name).write_bytes(b"[" + b",".join([b"{}"] * count) + b"]")
        os.utime(inbox / name, (0, 0))
    outcomes = {o.path.name: o for o in FileDrop(inbox.parents[2], gateway).scan()}
    gateway.close()
    assert outcomes["big.json"].state == "failed"
    assert "more than 50 records" in str(outcomes["big.json"].report["error"])
    assert outcomes["small.json"].report["rejected"] == 3, "the next file is still processed"
    dead_letters = publisher.on(DLQ)
    assert dead_letters
    assert all(b"small.json" in m.value for m in dead_letters), "nothing of big.json was queued"


def test_hubnet_convert_lists_the_first_reasons_and_counts_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBNET_INGEST_MAX_ERRORS", "5")
    monkeypatch.setenv("HUBNET_DATA_DIR", str(tmp_path))
    path = tmp_path / "events.json"
    path.write_bytes(b"[" + b",".join([b"{}"] * 30) + b"]")
    result = CliRunner().invoke(cli, ["convert", "--format", "csc-events", str(path)])
    assert result.exit_code == 1
    assert "$[4]" in result.stderr
    assert "$[5]" not in result.stderr, "the sixth rejection is counted, not listed"
    assert "... 25 more not listed" in result.stderr
    assert "0 event(s), 30 rejected record(s)" in result.stderr


def test_an_mllp_frame_over_the_record_cap_is_answered_ar_with_the_cap(
    tmp_path: Path, publisher: ListPublisher
) -> None:
    """The MLLP door goes through the same ingest step: a frame holding more messages than one input
    may hold is refused with an AR naming the cap (not a hubnet fault), nothing published."""
    gateway = open_gateway(
        tmp_path, publisher, Limits(rate_per_s=1e6, burst=10**6, input=InputLimits(max_records=3))
    )
    add_partner(gateway, "essex-chis", org_ids=("ECH",), formats=("hl7v2",))
    message = (
        b"MSH|^~\\&|CHIS|ECH|HUBNET|FH|20250112093000+0000||ADT^A28^ADT_A05|C%d|P|2.5\r"
        b"PID|1||9990001006^^^NHS^NH||TESTCHILD^Olivia||20250110|F\r"
    )
    ack = Hl7Feed(gateway, "essex-chis", "mllp:2575", sleep=lambda _s: None).message(
        b"".join(message % n for n in range(4))
    )
    gateway.close()
    assert ack_code(ack) == "AR"
    assert b"more than 3 records" in ack
    assert publisher.on(EVENTS) == []
