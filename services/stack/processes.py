"""Which hubnet services run as child processes in the one-machine stack, and on which ports.

Every service is started by its own `hubnet` command, exactly as in production (deploy/), so the
demo exercises the same code paths; only the addresses are chosen here.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass

from services.core.broker import free_port


def port_or_free(preferred: int) -> int:
    """The preferred port when nothing listens on it, else any free one (the demo must start)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    argv: list[str]
    url: str | None = None


def hubnet(*args: str) -> list[str]:
    """Run the CLI with the same interpreter, whether or not the console script is on PATH."""
    return [sys.executable, "-m", "services.cli", *args]


def stack_services(ingest_port: int, api_port: int) -> list[ServiceSpec]:
    """Workers first (they must be consuming before traffic arrives), then the HTTP services."""
    return [
        ServiceSpec("identity", hubnet("worker", "identity")),
        ServiceSpec("timeline", hubnet("worker", "timeline")),
        ServiceSpec("referrals", hubnet("worker", "referrals")),
        ServiceSpec("monitor", hubnet("monitor", "--every", "10")),
        ServiceSpec(
            "ingest", hubnet("serve", "ingest", "--port", str(ingest_port)), f"http://127.0.0.1:{ingest_port}"
        ),
        ServiceSpec("api", hubnet("serve", "api", "--port", str(api_port)), f"http://127.0.0.1:{api_port}"),
    ]
