"""Pure ops judgements on a simulated clock: service liveness, lag trend, stale partners, intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from schemas.errors import HubnetError
from services.ops import heartbeat, lag, partners
from services.ops.heartbeat import Beat, Liveness
from services.ops.lag import Trend
from services.ops.status import BrokerStatus, StatusReport
from services.ops.store import Expectation, OpsStore
from tests.databases import Backend

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def beat(service: str, instance: str, started: datetime, last: datetime, ready: bool = True) -> Beat:
    return Beat(
        service=service,
        instance=instance,
        version="1.0",
        started_at=started,
        last_beat_at=last,
        ready=ready,
        interval_s=10,
    )


def test_an_instance_is_up_until_three_intervals_pass_without_a_beat() -> None:
    beats = [beat("identity", "a", T0, T0)]
    assert heartbeat.judge(beats, T0 + timedelta(seconds=30))[0].liveness is Liveness.UP
    assert heartbeat.judge(beats, T0 + timedelta(seconds=31))[0].liveness is Liveness.SILENT


def test_a_beating_instance_that_is_not_ready_needs_attention() -> None:
    [state] = heartbeat.judge([beat("identity", "a", T0, T0, ready=False)], T0)
    assert state.liveness is Liveness.NOT_READY
    assert state.liveness.needs_attention


def test_a_stalled_worker_is_listed_first_and_the_status_names_why() -> None:
    stuck = beat("timeline", "t-1", T0, T0, ready=False).model_copy(
        update={"stalled": True, "problems": ["worker timeline stalled: 500 messages in hand"], "restarts": 2}
    )
    states = heartbeat.judge([beat("api", "a-1", T0, T0), stuck, beat("identity", "i-1", T0, T0)], T0)
    assert [(s.service, s.liveness) for s in states] == [
        ("timeline", Liveness.STALLED), ("api", Liveness.UP), ("identity", Liveness.UP),
    ]  # fmt: skip
    assert states[0].liveness.needs_attention
    assert states[0].restarts == 2
    report = StatusReport(
        collected_at=T0,
        broker=BrokerStatus(bootstrap="b:1", embedded=True, reachable=True),
        topics=[],
        outbox=None,
        services=states,
    )
    assert report.attention == [
        "service timeline (t-1) stalled: worker timeline stalled: 500 messages in hand"
    ]
    assert not report.healthy  # `hubnet status` exits 1


def test_a_silent_instance_replaced_by_a_newer_one_of_the_same_service_needs_no_attention() -> None:
    old = beat("identity", "old", T0, T0)
    new = beat("identity", "new", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    other = beat("timeline", "t", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    states = {s.instance: s.liveness for s in heartbeat.judge([old, new], T0 + timedelta(minutes=2))}
    assert states == {"old": Liveness.REPLACED, "new": Liveness.UP}
    # a newer instance of another service does not excuse the silent one
    states = {s.instance: s.liveness for s in heartbeat.judge([old, other], T0 + timedelta(minutes=2))}
    assert states["old"] is Liveness.SILENT


def test_beats_round_trip_with_their_compaction_key() -> None:
    original = beat("identity", "host-12", T0, T0)
    assert original.key == b"identity/host-12"
    assert Beat.model_validate_json(original.to_bytes()) == original


@pytest.mark.parametrize(
    ("earlier", "now", "expected"),
    [
        ([], 5, (Trend.NEW, 0)),
        ([10, 20], 30, (Trend.RISING, 20)),
        ([30, 20], 10, (Trend.FALLING, -20)),
        ([7, 9, 7], 7, (Trend.STEADY, 0)),
        ([100, 1, 2, 3, 4, 5], 6, (Trend.RISING, 5)),  # only the last five samples count
    ],
)
def test_lag_trend_compares_with_the_oldest_of_the_last_samples(
    earlier: list[int], now: int, expected: tuple[Trend, int]
) -> None:
    assert lag.trend(earlier, now) == expected


def test_lag_samples_are_kept_per_group_and_capped(backend: Backend) -> None:
    store = OpsStore.in_data_dir(backend.settings())
    for i in range(30):
        earlier = store.add_lag_sample("g", T0 + timedelta(seconds=i), i)
    store.add_lag_sample("other", T0, 999)
    assert earlier == list(range(10, 29))  # the 19 samples before the 30th, oldest first
    assert store.add_lag_sample("g", T0 + timedelta(minutes=5), 0)[-1] == 29
    store.close()


def test_a_partner_is_stale_only_after_its_expected_interval_of_silence() -> None:
    expected = {"school": Expectation(timedelta(days=1), since=T0 - timedelta(days=30))}
    last = {"school": T0}
    assert not partners.judge(expected, last, T0 + timedelta(hours=23))[0].stale
    [row] = partners.judge(expected, last, T0 + timedelta(days=1, seconds=1))
    assert row.stale
    assert row.silent_for_s == 86401


def test_a_never_seen_partner_counts_silence_from_when_it_became_expected() -> None:
    expected = {"new-charity": Expectation(timedelta(hours=6), since=T0)}
    assert not partners.judge(expected, {}, T0 + timedelta(hours=5))[0].stale
    assert partners.judge(expected, {}, T0 + timedelta(hours=7))[0].stale


def test_partners_without_an_expectation_are_listed_but_never_stale() -> None:
    [row] = partners.judge({}, {"gp": T0}, T0 + timedelta(days=365))
    assert (row.partner, row.stale, row.expected_every_s) == ("gp", False, None)


def test_partner_gauges_use_the_same_silence_rule_as_status() -> None:
    expected = {"unit-never": Expectation(timedelta(hours=6), since=T0)}
    partners.export_metrics(expected, {"unit-seen": T0 + timedelta(hours=1)})
    value = REGISTRY.get_sample_value
    assert value("hubnet_partner_expected_interval_seconds", {"partner": "unit-never"}) == 21600
    assert value("hubnet_partner_last_event_timestamp_seconds", {"partner": "unit-never"}) == T0.timestamp()
    assert (
        value("hubnet_partner_last_event_timestamp_seconds", {"partner": "unit-seen"})
        == (T0 + timedelta(hours=1)).timestamp()
    )


def test_expectations_survive_in_the_ops_store_and_can_be_cleared(backend: Backend) -> None:
    store = OpsStore.in_data_dir(backend.settings())
    store.expect("school", timedelta(days=1), T0)
    store.expect("school", timedelta(hours=2), T0 + timedelta(hours=1))
    assert store.expectations() == {"school": Expectation(timedelta(hours=2), T0 + timedelta(hours=1))}
    assert store.forget_expectation("school")
    assert not store.forget_expectation("school")
    assert store.expectations() == {}
    store.close()


def test_scan_keeps_the_newest_time_per_partner(backend: Backend) -> None:
    store = OpsStore.in_data_dir(backend.settings())
    store.save_scan("fh.events", {0: 5}, {"a": T0 + timedelta(hours=1)})
    store.save_scan("fh.dlq", {0: 2}, {"a": T0, "b": T0})  # an older input from "a" read later
    assert store.last_activity() == {"a": T0 + timedelta(hours=1), "b": T0}
    assert store.scan_positions("fh.events") == {0: 5}
    store.close()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("6h", 21600), ("1d", 86400), ("2w", 1209600), ("1d12h", 129600)],
)
def test_intervals_parse(text: str, seconds: int) -> None:
    assert partners.parse_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "d", "1y", "-1d", "0s", "1 day"])
def test_bad_intervals_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(HubnetError, match="interval"):
        partners.parse_interval(text)
