"""`python -m tests.integration.gateway_runner ARGS`: the hubnet CLI with the slow `test-lines` format
registered, so integration tests can run real gateway processes (and kill them) on a test format."""

from __future__ import annotations

from connectors import registry
from services.cli.main import app

if __name__ == "__main__":
    registry._CONNECTORS["test-lines"] = "tests.unit.gateway.support:SlowLinesConnector"
    import tests.unit.gateway.support  # noqa: F401  (registers the test format's sender claims)

    app()
