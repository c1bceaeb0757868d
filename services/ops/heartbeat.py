"""Service heartbeats on the compacted topic `fh.heartbeats`, and how `hubnet status` judges them.

Every long-running hubnet process starts a `Heartbeat` thread: it publishes a `Beat` keyed by
`service/instance` every `interval_s`, so the topic holds the latest beat of each running instance.
A clean stop publishes a tombstone, which removes the instance from the view (stopping on purpose
needs no attention). An instance that stops beating is *silent* after three intervals, unless a
newer instance of the same service is up: then it was *replaced* (a restart) and needs no attention.

Delivery: fire-and-forget (acks=1, no outbox). A lost beat only matters if three in a row are lost,
and then "silent" is the right thing to show.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

from schemas.topics import HEARTBEATS
from services.core import kafka_clients
from services.core.health import hubnet_version
from services.core.settings import Settings
from services.core.topic_reader import read_to_end

log = structlog.get_logger(__name__)
DEFAULT_INTERVAL_S = 10.0
MISSED_BEATS = 3
"""An instance is up while its last beat is younger than this many intervals."""

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def beat_key(service: str, instance: str) -> bytes:
    return f"{service}/{instance}".encode()


class Beat(BaseModel):
    """The latest word from one process: what runs, since when, and whether it is ready."""

    model_config = ConfigDict(frozen=True)

    service: str = Field(description="Service name, e.g. worker-identity, ingest-api.")
    instance: str = Field(description="Host and process id, unique among running instances.")
    version: str
    started_at: datetime
    last_beat_at: datetime
    ready: bool
    interval_s: float = Field(default=DEFAULT_INTERVAL_S, gt=0, description="Beat period of this instance.")
    stalled: bool = Field(default=False, description="A stream worker holding work it cannot finish.")
    problems: list[str] = Field(default_factory=list, description="What `/readyz` names as wrong.")
    restarts: int = Field(default=0, ge=0, description="Times `hubnet up` restarted this service.")

    @property
    def key(self) -> bytes:
        return beat_key(self.service, self.instance)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class Liveness(StrEnum):
    UP = "up"
    STALLED = "stalled"
    NOT_READY = "not ready"
    SILENT = "silent"
    REPLACED = "replaced"

    @property
    def needs_attention(self) -> bool:
        return self in (Liveness.STALLED, Liveness.NOT_READY, Liveness.SILENT)


class ServiceState(BaseModel):
    """One instance as status shows it."""

    service: str
    instance: str
    version: str
    started_at: datetime
    last_beat_at: datetime
    liveness: Liveness
    problems: list[str] = []
    restarts: int = 0


def judge(beats: Iterable[Beat], now: datetime) -> list[ServiceState]:
    """Up, stalled (holding work it cannot finish), not ready, silent (no beat for `MISSED_BEATS`
    intervals) or replaced by a newer instance; stalled services first, as they need a person most."""
    beats = list(beats)

    def alive(beat: Beat) -> bool:
        return now - beat.last_beat_at <= timedelta(seconds=beat.interval_s * MISSED_BEATS)

    states = []
    for beat in beats:
        if alive(beat) and beat.stalled:
            liveness = Liveness.STALLED
        elif alive(beat):
            liveness = Liveness.UP if beat.ready else Liveness.NOT_READY
        elif any(
            other.service == beat.service and alive(other) and other.started_at > beat.last_beat_at
            for other in beats
        ):
            liveness = Liveness.REPLACED
        else:
            liveness = Liveness.SILENT
        states.append(
            ServiceState(
                service=beat.service,
                instance=beat.instance,
                version=beat.version,
                started_at=beat.started_at,
                last_beat_at=beat.last_beat_at,
                liveness=liveness,
                problems=beat.problems if liveness is not Liveness.SILENT else [],
                restarts=beat.restarts,
            )
        )
    return sorted(states, key=lambda s: (s.liveness is not Liveness.STALLED, s.service, s.instance))


def latest_beats(settings: Settings, bootstrap: str) -> list[Beat]:
    """The last beat of every instance not stopped cleanly, read from the whole (compacted) topic."""
    latest: dict[bytes, Beat | None] = {}
    for record in read_to_end(settings, bootstrap, HEARTBEATS):
        latest[record.key] = None if record.value is None else Beat.model_validate_json(record.value)
    return [beat for beat in latest.values() if beat is not None]


def default_instance() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Heartbeat(threading.Thread):
    """Publishes this process's beat every `interval_s` until `stop()`; never raises into the service.

    `problems` is asked at each beat (e.g. `health.problems`), so a beat carries the readiness the
    service itself would answer on `/readyz`; `stalled` likewise says whether a stream worker holds
    work it cannot finish; `on_beat` runs after each beat (a worker's progress log line).
    """

    def __init__(
        self,
        settings: Settings,
        bootstrap: str,
        service: str,
        *,
        problems: Callable[[], list[str]] = list,
        stalled: Callable[[], bool] = lambda: False,
        on_beat: Callable[[], None] = lambda: None,
        restarts: int = 0,
        interval_s: float = DEFAULT_INTERVAL_S,
        instance: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(name=f"{service}-heartbeat", daemon=True)
        self._settings = settings
        self._servers = bootstrap
        self._problems = problems
        self._stalled = stalled
        self._on_beat = on_beat
        self.restarts = restarts
        self._clock = clock
        self._halt = threading.Event()
        self._producer: Any = None
        self.service = service
        self.instance = instance or default_instance()
        self.interval_s = interval_s
        self.started_at = clock()
        self.version = hubnet_version()

    def beat(self) -> Beat:
        problems = self._problems()
        return Beat(
            service=self.service,
            instance=self.instance,
            version=self.version,
            started_at=self.started_at,
            last_beat_at=self._clock(),
            ready=not problems,
            interval_s=self.interval_s,
            stalled=self._stalled(),
            problems=problems,
            restarts=self.restarts,
        )

    def run(self) -> None:
        while not self._halt.is_set():
            self._send(lambda: self.beat().to_bytes())
            try:
                self._on_beat()
            except Exception as error:  # a log line must never stop the beat
                log.warning("heartbeat.on_beat_failed", service=self.service, error=type(error).__name__)
            self._halt.wait(self.interval_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop beating and publish a tombstone: a clean stop leaves nothing to look into."""
        self._halt.set()
        if self.is_alive():
            self.join(timeout_s)
        self._send(lambda: None)
        if self._producer is not None:
            self._producer.close(timeout=timeout_s)
            self._producer = None

    def _send(self, value: Callable[[], bytes | None]) -> None:
        """Build and send one beat (or tombstone); a failure in either is logged, never raised."""
        try:
            if self._producer is None:
                self._producer = kafka_clients.producer(
                    self._settings, self._servers, acks=1, enable_idempotence=False, linger_ms=0
                )
            self._producer.send(HEARTBEATS, key=beat_key(self.service, self.instance), value=value())
            self._producer.flush(timeout=self.interval_s)
        except Exception as error:  # a broker outage or failing check must not stop the service
            log.warning("heartbeat.failed", service=self.service, error=type(error).__name__)
