"""Stale partners: who has sent nothing for longer than they are expected to.

The last input per partner is read from the topics themselves, not from an ingest-side store, so it
is right whichever transport or process took the input: `fh.events` (headers `source_partner`,
`ingested_at`) and `fh.dlq` (a rejected input is still an input; `source_partner` header and the
record timestamp). The scan is incremental: where it stopped on each partition is kept in the ops
store with the newest time per partner, so each run reads only what arrived since the last one.
A position outside the partition's current range (retention removed it, or the broker was
recreated, as the in-memory embedded broker is on restart) starts that partition from its beginning.

Expected intervals are ops-owned (`hubnet partners expect CODE --every 1d`). A partner never seen
is counted silent from when its expectation was set, so a newly expected partner is not stale at once.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import TopicPartition
from pydantic import BaseModel

from schemas.errors import HubnetError
from schemas.topics import DLQ, EVENTS
from services.core import kafka_clients, metrics
from services.core.settings import Settings
from services.core.topic_reader import read_range
from services.ops.lag import topic_end_offsets
from services.ops.store import Expectation, OpsStore

SCANNED_TOPICS = (EVENTS, DLQ)


class PartnerActivity(BaseModel):
    partner: str
    last_input_at: datetime | None
    expected_every_s: float | None
    stale: bool
    silent_for_s: float | None = None
    """Seconds since the last input (or since the expectation was set, if nothing came yet)."""


def judge(
    expectations: Mapping[str, Expectation], last: Mapping[str, datetime], now: datetime
) -> list[PartnerActivity]:
    """Every partner seen or expected; stale when silent for longer than its expected interval."""
    rows = []
    for partner in sorted(set(expectations) | set(last)):
        seen = last.get(partner)
        expectation = expectations.get(partner)
        if expectation is None:
            rows.append(
                PartnerActivity(partner=partner, last_input_at=seen, expected_every_s=None, stale=False)
            )
            continue
        silent_since = seen or expectation.since
        silent_for = now - silent_since
        rows.append(
            PartnerActivity(
                partner=partner,
                last_input_at=seen,
                expected_every_s=expectation.every.total_seconds(),
                stale=silent_for > expectation.every,
                silent_for_s=max(0.0, silent_for.total_seconds()),
            )
        )
    return rows


def export_metrics(expectations: Mapping[str, Expectation], last: Mapping[str, datetime]) -> None:
    """`hubnet_partner_*` gauges for the HubnetPartnerSilent alert (same silence rule as `judge`)."""
    for partner, expectation in expectations.items():
        metrics.PARTNER_EXPECTED_INTERVAL.labels(partner).set(expectation.every.total_seconds())
        metrics.PARTNER_LAST_EVENT.labels(partner).set((last.get(partner) or expectation.since).timestamp())
    for partner, at in last.items():
        metrics.PARTNER_LAST_EVENT.labels(partner).set(at.timestamp())


def scan(settings: Settings, bootstrap: str, store: OpsStore, exact_ends: bool) -> dict[str, datetime]:
    """Read what arrived since the last scan, remember it, and return the last input of every partner."""
    consumer = kafka_clients.consumer(settings, bootstrap, group_id=None)
    try:
        for topic in SCANNED_TOPICS:
            _scan_topic(consumer, topic, store, exact_ends)
    finally:
        consumer.close()
    return store.last_activity()


def unread_since_last_scan(
    consumer: Any, topic: str, store: OpsStore, exact_ends: bool
) -> tuple[dict[int, int], dict[TopicPartition, int]]:
    """Where the last scan of `topic` stopped per partition (its beginning when the saved position is
    outside the partition's current range), and the partitions with records after that, from there.
    The caller reads the second with `read_range` and saves the first, advanced, with `save_scan`."""
    end = topic_end_offsets(consumer, topic, exact_ends)
    begin = consumer.beginning_offsets(list(end)) if end else {}
    saved = store.scan_positions(topic)
    start = {
        tp: saved[tp.partition] if begin[tp] <= saved.get(tp.partition, -1) <= end[tp] else begin[tp]
        for tp in end
    }
    unread = {tp: offset for tp, offset in start.items() if offset < end[tp]}  # ends are exact here
    return {tp.partition: offset for tp, offset in start.items()}, unread


def _scan_topic(consumer: Any, topic: str, store: OpsStore, exact_ends: bool) -> None:
    positions, unread = unread_since_last_scan(consumer, topic, store, exact_ends)
    seen: dict[str, datetime] = {}
    for record in read_range(consumer, unread) if unread else ():
        positions[record.partition] = record.offset + 1
        partner, at = _input_of(record)
        if partner and (partner not in seen or at > seen[partner]):
            seen[partner] = at
    store.save_scan(topic, positions, seen)


def _input_of(record: Any) -> tuple[str | None, datetime]:
    """Partner and arrival time from the headers; the record timestamp when `ingested_at` is absent."""
    headers = dict(record.headers or [])
    partner = headers["source_partner"].decode() if "source_partner" in headers else None
    at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    if "ingested_at" in headers:
        with contextlib.suppress(ValueError):  # a malformed header: the broker's time stands
            at = datetime.fromisoformat(headers["ingested_at"].decode()).astimezone(UTC)
    return partner, at


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_interval(text: str) -> timedelta:
    """'90s', '30m', '6h', '1d', '2w' (or a sum like '1d12h') as a timedelta; at least one second."""
    parts = re.fullmatch(r"(?:\d+[smhdw])+", text.strip().lower())
    if parts is None:
        raise HubnetError(
            f"'{text}' is not an interval: use a number and a unit s, m, h, d or w, e.g. 1d or 6h"
        )
    seconds = sum(int(n) * _UNITS[unit] for n, unit in re.findall(r"(\d+)([smhdw])", parts.group(0)))
    if seconds < 1:
        raise HubnetError("an expected interval must be at least one second")
    return timedelta(seconds=seconds)
