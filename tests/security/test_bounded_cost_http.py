"""Bounded cost through a real HTTP server (uvicorn on loopback, the gateway's SQLite database): the
worst inputs at the default caps get answers whose size in bytes is bounded, and the caps hold.

Not timed: peak memory and time per input are figures of tests/bench/bench_worst_inputs.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.input_limits import MAX_LOCATION_CHARS, MAX_REASON_CHARS, InputLimits
from services.gateway.app import create_app
from services.gateway.service import Limits
from tests.e2e.serving import served
from tests.unit.gateway.support import ListPublisher, add_partner, open_gateway

pytestmark = pytest.mark.security
LIMITS = Limits(rate_per_s=1e6, burst=10**6)  # the default body limit (10 MiB) and input caps
CAPS = LIMITS.input
ITEM_BYTES = 300
"""An item of a result without its reason: status, ids, the record's reference ($[9999])."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    gateway = open_gateway(tmp_path_factory.mktemp("gateway"), ListPublisher(), LIMITS)
    key = add_partner(gateway, "cost-probe", formats=("csc-events", "hv-csv", "hl7v2"))
    with (
        served(create_app(gateway), start_timeout_s=30, lifespan="off") as url,
        httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=120) as client,
    ):
        yield client
    gateway.close()


def _array(count: int, item: bytes = b"{}") -> bytes:
    return b"[" + b",".join([item] * count) + b"]"


def test_an_array_of_empty_objects_at_the_body_limit_gets_a_small_413(server: httpx.Client) -> None:
    """The input of finding 4, grown to the 10 MiB limit: a 347 MB answer at 2 MB before."""
    body = _array((LIMITS.max_body_bytes - 2) // 3)
    response = server.post("/v1/validate/csc-events", content=body)
    assert response.status_code == 413
    assert len(response.content) < 1024
    assert "split" in response.json()["detail"]


def test_csv_rows_past_the_record_cap_get_a_413_naming_it(server: httpx.Client) -> None:
    header = b"record_id,nhs_number,given_name,family_name,birth_date,review_type,review_date\n"
    response = server.post("/v1/events/hv-csv", content=header + b"x\n" * (CAPS.max_records + 1))
    assert response.status_code == 413
    assert f"more than {CAPS.max_records:,} records" in response.json()["detail"]


def test_the_answer_to_the_most_records_one_input_may_hold_is_bounded_in_bytes(server: httpx.Client) -> None:
    """Every record rejected, each with a reason: the answer lists `max_errors` reasons in full
    (twice: the problem's errors and its result), and every record's item without one."""
    response = server.post("/v1/validate/csc-events", content=_array(CAPS.max_records))
    assert response.status_code == 422
    problem = response.json()
    assert len(problem["errors"]) == CAPS.max_errors
    assert problem["errors_omitted"] == CAPS.max_records - CAPS.max_errors
    assert len(problem["result"]["items"]) == CAPS.max_records
    reason_bytes = MAX_REASON_CHARS + MAX_LOCATION_CHARS + 200
    bound = CAPS.max_records * ITEM_BYTES + 2 * CAPS.max_errors * reason_bytes
    assert len(response.content) <= bound, f"{len(response.content):,} bytes, bound {bound:,}"


def test_an_hl7_message_one_segment_over_the_default_cap_gets_a_small_413(server: httpx.Client) -> None:
    """Counted before parsing: one ORU of 750,000 OBX took 609 MB and 5.7 s to parse and map."""
    head = b"MSH|^~\\&|LAB|RQ3|HUB|HUB|20240501093000||ORU^R01|M1|P|2.5\rPID|1||9990000018^^^NHS^NH\r"
    body = head + b"OBX|1|NM|||1|\r" * (CAPS.max_nodes - 1)
    assert len(body) < LIMITS.max_body_bytes
    response = server.post("/v1/validate/hl7v2", content=body)
    assert response.status_code == 413
    assert len(response.content) < 1024
    detail = response.json()["detail"]
    assert f"more than {CAPS.max_nodes:,} HL7 v2 segments ({CAPS.max_nodes + 1:,})" in detail
    assert "HUBNET_INGEST_MAX_NODES" in detail
    assert "split the message" in detail


def test_the_caps_are_the_documented_defaults() -> None:
    """README "Bounded cost per input" and the configuration table name these figures."""
    assert InputLimits() == CAPS
    assert (CAPS.max_records, CAPS.max_nodes, CAPS.max_errors) == (10_000, 300_000, 100)
