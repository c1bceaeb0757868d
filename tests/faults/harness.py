"""Real processes to hurt: a private embedded broker per test and `hubnet` commands as child processes.

Each fault test owns its broker (a fresh Tansu on its own port), so killing it never disturbs the
session broker other tests share. Child processes find the broker the way `hubnet up` children do,
through `<data dir>/broker.json`, so they run with the embedded profile's short group timings.
Every process is stopped by its own id (or its own process group), never by name.

Tansu keeps messages in memory only: a killed broker forgets them. Where a test kills the broker,
it first freezes the publishing process (SIGSTOP), reads what the broker holds (`snapshot`), kills
it, and lets the publisher go on (SIGCONT): the snapshot stands in for the disks a real Kafka
cluster would have kept.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from connectors import registry
from schemas.topics import catalogue
from services.core import kafka_clients, topics
from services.core.broker import EmbeddedBroker, free_port, record_running
from services.core.settings import Settings
from services.core.supervisor import Child, Supervisor

REPO = Path(__file__).resolve().parents[2]


def hubnet_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.cli", *args]


def child_env(data_dir: Path) -> dict[str, str]:
    """The environment of a hubnet child: this test's data dir, JSON logs, no configured Kafka
    (the broker is found through broker.json, so the embedded group timings apply)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "HUBNET_"))
    }  # a developer's own settings must not point the children elsewhere
    return {
        **env,
        "HUBNET_DATA_DIR": str(data_dir),
        "HUBNET_LOG_FORMAT": "json",
        "HUBNET_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }


@dataclass
class FaultBroker:
    """A broker on a fixed port that a test may kill -9 and start again at the same address."""

    settings: Settings
    port: int = field(default_factory=free_port)
    broker: EmbeddedBroker | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FaultBroker:
        self.broker = EmbeddedBroker(port=self.port).start()
        admin = kafka_clients.admin(self.settings, self.bootstrap)
        try:
            topics.apply(admin, catalogue())
        finally:
            admin.close()
        record_running(self.settings, self.broker)
        return self

    def kill(self) -> None:
        """SIGKILL of the broker process itself: no shutdown, in-flight requests unanswered."""
        assert self.broker is not None
        assert self.broker.process is not None
        self.broker.process.kill()
        self.broker.process.wait(10)

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()


@dataclass
class Processes:
    """`hubnet` children under a `Supervisor` (own process group each), plus kill -9 and restart."""

    data_dir: Path
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(env=child_env(self.data_dir), log_dir=self.data_dir / "logs")

    def start(self, name: str, *args: str) -> Child:
        return self.supervisor.start(name, hubnet_argv(*args))

    def kill9(self, child: Child) -> None:
        """SIGKILL the child's whole process group at once: no handler, no flush, no goodbye."""
        assert child.process is not None
        os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait(10)

    def restart(self, child: Child) -> Child:
        return self.supervisor.start(child.name, child.argv)

    def stop(self) -> None:
        self.supervisor.stop(grace_s=10)


def pause(child: Child) -> None:
    assert child.process is not None
    os.killpg(child.process.pid, signal.SIGSTOP)


def resume(child: Child) -> None:
    assert child.process is not None
    os.killpg(child.process.pid, signal.SIGCONT)


def wait_until(
    condition: Callable[[], bool],
    timeout_s: float,
    what: str,
    poll_s: float = 0.3,
    explain: Callable[[], str] = str,
) -> None:
    """Poll until `condition`; on timeout fail with `explain()` (what the processes were doing)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}\n{explain()}")
        time.sleep(poll_s)


def generate_county(out: Path, families: int, seed: int) -> Path:
    """A small synthetic county (`hubnet generate`), the partner traffic the fault tests replay,
    with every format's deliberately broken sample sent mid-period (see `add_broken_inputs`)."""
    subprocess.run(
        hubnet_argv(
            "generate", "--families", str(families), "--seed", str(seed), "--out", str(out),
            "--start", "2023-04-01", "--end", "2025-03-31",
        ),
        env=child_env(out.parent),
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    add_broken_inputs(out)
    return out


BROKEN_SENT_AT = "2024-06-01T03:00:00+00:00"
VERSIONED_BY_RECEIPT = {"ssda903"}
"""Formats whose event ids depend on when a file arrives, so an offline conversion cannot predict them."""


def add_broken_inputs(county: Path) -> None:
    """Put each format's `samples/<format>/invalid.*` into the county's manifest, so the replayed
    traffic carries dead letters too and the reconciliation counts both sides of the equation."""
    manifest_path = county / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for sample in sorted((REPO / "samples").glob("*/invalid.*")):
        fmt = sample.parent.name
        if fmt in VERSIONED_BY_RECEIPT or fmt not in registry.formats():
            continue
        path = Path("feeds", "fault-test", fmt, sample.name)
        (county / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample, county / path)
        manifest["files"].append(
            {"format": fmt, "partner": "fault-test", "path": str(path), "sent_at": BROKEN_SENT_AT}
        )
    manifest_path.write_text(json.dumps(manifest))
