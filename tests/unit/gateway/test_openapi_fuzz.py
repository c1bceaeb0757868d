"""Generated requests against the partner API: schemathesis from the OpenAPI document, and arbitrary
bytes into every registered connector. The rule under test: no input ever causes a server error,
and every answer is one the document describes (status, content type, body schema).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from connectors import registry
from services.gateway.app import build_app, create_app
from services.gateway.service import Gateway, Limits
from tests.unit.gateway.support import FORMAT, ListPublisher, add_partner, line, open_gateway

pytestmark = pytest.mark.fuzz
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = open_gateway(
        tmp_path_factory.mktemp("gateway"), ListPublisher(), Limits(rate_per_s=1e6, burst=10**6)
    )
    yield gateway
    gateway.close()


@pytest.fixture(scope="module")
def app(gateway: Gateway) -> FastAPI:
    return create_app(gateway)


@pytest.fixture(scope="module")
def key(gateway: Gateway) -> str:
    return add_partner(gateway, "fuzz-partner")


def operations() -> list[str]:
    """`METHOD path` of every operation in the document, one test each."""
    paths = build_app().openapi()["paths"]
    return [f"{method.upper()} {path}" for path, item in paths.items() for method in item]


# Build the schema's strategies once here, at collection: schemathesis imports its OpenAPI
# modules lazily, and pytest rewrites a plugin's modules (compiling them) when they are imported.
# After the security suite's deeply nested inputs, CPython 3.11.7's AST compiler can refuse with
# "SystemError: AST constructor recursion depth mismatch" (a CPython bug, not hubnet's), so the
# compiling happens before any test has run.
schemathesis.openapi.from_dict(build_app().openapi())["/v1/events/{format}"]["POST"].as_strategy()


@pytest.mark.parametrize("operation", operations())
def test_generated_requests_never_cause_a_server_error(app: FastAPI, key: str, operation: str) -> None:
    """schemathesis's pytest plugin does not load under pytest 9 (`Function._nodeid`), so its
    strategies are driven with hypothesis directly; the checks are the same."""
    method, path = operation.split(" ", 1)
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    strategy = api[path][method].as_strategy()

    @given(case=strategy)
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.headers = {**(case.headers or {}), "X-API-Key": key}
        case.call_and_validate(checks=CHECKS)

    check()


def test_known_format_with_valid_body_is_accepted_by_the_same_app(app: FastAPI, key: str) -> None:
    """Guards the fuzz test against passing only because every request was refused."""
    client = TestClient(app)
    response = client.post(
        f"/v1/events/{FORMAT}", content=line("fuzz-1").encode(), headers={"X-API-Key": key}
    )
    assert response.status_code == 202


@pytest.mark.parametrize("fmt", [FORMAT, *registry.formats()])
def test_arbitrary_bytes_into_every_connector_never_cause_a_server_error(
    app: FastAPI, key: str, fmt: str
) -> None:
    client = TestClient(app, raise_server_exceptions=False)

    @given(body=st.binary(min_size=1, max_size=2000) | st.text(max_size=500).map(str.encode).filter(bool))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def check(body: bytes) -> None:
        response = client.post(f"/v1/validate/{fmt}", content=body, headers={"X-API-Key": key})
        assert response.status_code in (200, 403, 422), response.text

    check()
