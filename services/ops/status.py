"""Gather the facts `hubnet status` shows: services, broker and topics, consumer lag, dead letters,
stale partners, outbox backlog; and say which of them need attention.

Pure collection: nothing here prints. Collection never raises for an unhealthy system: an unreachable
broker is a fact to report, and a section that cannot be read (e.g. a broker without the group
APIs) becomes a line under `errors` while the other sections still show. Collecting also updates
the ops metrics (`hubnet_consumer_lag`, `hubnet_dead_letters_open`, `hubnet_partner_*`), so the
process that calls it periodically (`hubnet monitor`) is the one Prometheus scrapes for them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, computed_field

from schemas.topics import catalogue
from services.core import kafka_clients, topics
from services.core.broker import resolve_bootstrap
from services.core.outbox import DEFAULT_FILE, Outbox
from services.core.settings import Settings
from services.ops import dead_letters, heartbeat, lag, partners
from services.ops.dead_letters import OpenDeadLetters
from services.ops.heartbeat import ServiceState, utc_now
from services.ops.lag import GroupLag, Trend
from services.ops.partners import PartnerActivity
from services.ops.store import OpsStore

LAG_ATTENTION = 1000
"""A group this far behind and not catching up needs attention (as the HubnetConsumerLagGrowing alert)."""
OUTBOX_ATTENTION = timedelta(minutes=5)
"""An outbox message queued longer than this means the broker is not taking events."""
T = TypeVar("T")


class BrokerStatus(BaseModel):
    bootstrap: str | None
    embedded: bool
    reachable: bool
    error: str | None = None
    exact_ends: bool = False
    """End offsets need correcting by reading each partition's last batch (Tansu; see lag.py)."""


class TopicStatus(BaseModel):
    name: str
    present: bool
    drift: list[str] = []


class OutboxStatus(BaseModel):
    path: str
    backlog: int
    oldest_queued_at: str | None

    def stuck(self, now: datetime) -> bool:
        if not self.backlog or self.oldest_queued_at is None:
            return False
        queued = datetime.fromisoformat(self.oldest_queued_at).replace(tzinfo=UTC)
        return now - queued > OUTBOX_ATTENTION


class StatusReport(BaseModel):
    collected_at: datetime
    broker: BrokerStatus
    topics: list[TopicStatus]
    outbox: OutboxStatus | None
    services: list[ServiceState] = []
    lag: list[GroupLag] = []
    dead_letters: list[OpenDeadLetters] = []
    partners: list[PartnerActivity] = []
    errors: list[str] = []

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented spelling
    @property
    def attention(self) -> list[str]:
        """One sentence per thing an operator should look at; empty when all is well."""
        found = list(self.errors)
        if not self.broker.reachable:
            found.append(f"broker unreachable: {self.broker.error}")
        found += [f"topic {t.name} missing" for t in self.topics if not t.present]
        found += [f"topic {t.name} drifted" for t in self.topics if t.drift]
        found += [
            f"service {s.service} ({s.instance}) {s.liveness}" + (f": {s.problems[0]}" if s.problems else "")
            for s in self.services
            if s.liveness.needs_attention
        ]
        found += [
            f"consumer group {g.group} is {g.total} behind and {g.trend}"
            for g in self.lag
            if g.total > LAG_ATTENTION and g.trend != Trend.FALLING
        ]
        open_by_partner: dict[str, int] = {}
        for d in self.dead_letters:
            open_by_partner[d.partner] = open_by_partner.get(d.partner, 0) + d.count
        found += [f"partner {p}: {n} open dead letter(s)" for p, n in sorted(open_by_partner.items())]
        found += [f"partner {p.partner} silent for longer than expected" for p in self.partners if p.stale]
        if self.outbox is not None and self.outbox.stuck(self.collected_at):
            found.append(f"outbox: {self.outbox.backlog} waiting since {self.outbox.oldest_queued_at}")
        return found

    @property
    def healthy(self) -> bool:
        return not self.attention


def collect(settings: Settings, now: datetime | None = None) -> StatusReport:
    """Everything `hubnet status` shows, as of `now` (a simulated clock in tests)."""
    now = now or utc_now()
    bootstrap = resolve_bootstrap(settings)
    report = StatusReport(
        collected_at=now,
        broker=BrokerStatus(bootstrap=bootstrap, embedded=settings.embedded, reachable=False),
        topics=[],
        outbox=None,
    )
    report.outbox = _section(report, "outbox", lambda: _outbox(settings))
    if bootstrap is None:
        report.broker.error = "no broker configured and no embedded broker running (start one: hubnet up)"
        return report
    try:
        admin = kafka_clients.admin(settings, bootstrap, request_timeout_ms=3000, bootstrap_timeout_ms=3000)
    except Exception as error:  # kafka-python raises NoBrokersAvailable and friends
        report.broker.error = f"{type(error).__name__}: cannot reach {bootstrap}"
        return report
    try:
        checked = topics.check(admin, catalogue())
        report.broker.reachable = True
        report.topics = [
            TopicStatus(name=name, present=name in checked.present, drift=checked.drift.get(name, []))
            for name in catalogue().names()
        ]
        exact_ends = settings.embedded or bool(_section(report, "broker", lambda: lag.is_tansu(admin)))
        report.broker.exact_ends = exact_ends
        report.lag = (
            _section(report, "consumer lag", lambda: lag.measure(settings, bootstrap, admin, exact_ends))
            or []
        )
    finally:
        admin.close()
    beats = _section(report, "services", lambda: heartbeat.latest_beats(settings, bootstrap)) or []
    report.services = heartbeat.judge(beats, now)
    entries = _section(report, "dead letters", lambda: dead_letters.load(settings, bootstrap)) or []
    report.dead_letters = dead_letters.summarise(entries)
    store = OpsStore.in_data_dir(settings)
    try:
        _add_trends(store, report.lag, now)
        last = _section(report, "partners", lambda: partners.scan(settings, bootstrap, store, exact_ends))
        expectations = store.expectations()
        partners.export_metrics(expectations, last or {})
        report.partners = partners.judge(expectations, last or {}, now)
    finally:
        store.close()
    return report


def _section(report: StatusReport, name: str, read: Callable[[], T]) -> T | None:
    """Run one section's reader; a failure is reported under `errors`, not raised."""
    try:
        return read()
    except Exception as error:  # any client error: the rest of the status is still worth showing
        report.errors.append(f"{name}: cannot read ({type(error).__name__}: {error})")
        return None


def _add_trends(store: OpsStore, groups: list[GroupLag], now: datetime) -> None:
    for group in groups:
        earlier = store.add_lag_sample(group.group, now, group.total)
        group.trend, group.change = lag.trend(earlier, group.total)


def _outbox(settings: Settings) -> OutboxStatus | None:
    """This machine's outbox file, or on PostgreSQL the outbox every process shares."""
    if not settings.database_url and not (settings.data_dir / DEFAULT_FILE).exists():
        return None
    outbox = Outbox.at(settings)
    try:
        return OutboxStatus(
            path=outbox.where, backlog=outbox.backlog(), oldest_queued_at=outbox.oldest_queued_at()
        )
    finally:
        outbox.close()
