"""What the monitor keeps for the ops page, without a broker: samples and report in the ops store,
throughput from counters, percentiles, and the sparkline geometry and its text alternative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from services.ops import history
from services.ops.history import Point, Sample
from services.ops.store import OpsStore
from services.web.ops_charts import HEIGHT, PAD, chart
from tests.databases import Backend
from tests.unit.ops.test_status_view import NOW, healthy_report


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_samples_are_kept_for_two_hours_and_read_back_for_the_last_hour(backend: Backend) -> None:
    store = OpsStore.in_data_dir(backend.settings())
    for minutes in (-150, -90, -30, 0):
        store.add_monitor_sample(at(minutes), Sample(at=at(minutes), events=minutes + 200).model_dump_json())
    assert len(store.monitor_samples(at(-1000))) == 3  # the one from 2.5 hours ago is gone
    assert [s.events for s in history.last_hour(store, NOW)] == [170, 200]
    store.close()


def test_the_latest_report_replaces_the_one_before(backend: Backend) -> None:
    store = OpsStore.in_data_dir(backend.settings())
    assert history.latest_report(store) is None
    first = healthy_report()
    store.save_monitor_report(first.collected_at, 30.0, first.model_dump_json())
    later = first.model_copy(update={"collected_at": at(1), "services": []})
    store.save_monitor_report(later.collected_at, 15.0, later.model_dump_json())
    found = history.latest_report(store)
    assert found is not None
    report, every_s = found
    assert (report.collected_at, report.services, every_s) == (at(1), [], 15.0)
    assert report.lag[0].total == 2
    store.close()


def test_throughput_is_growth_per_minute_and_a_counter_going_back_is_a_gap() -> None:
    samples = [
        Sample(at=at(0), events=100),
        Sample(at=at(0.5), events=130),  # 30 in half a minute
        Sample(at=at(1.5), events=None),  # not readable then
        Sample(at=at(2.5), events=250),
        Sample(at=at(3.5), events=5),  # the embedded broker was recreated
    ]
    rates = [p.value for p in history.per_minute(samples, lambda s: s.events)]
    assert rates == [60.0, None, None, None]
    assert [p.at for p in history.per_minute(samples, lambda s: s.events)] == [
        at(0.5),
        at(1.5),
        at(2.5),
        at(3.5),
    ]


def test_lag_points_per_group_leave_gaps_where_the_group_had_no_figure() -> None:
    samples = [Sample(at=at(0), lag={"a": 5, "b": 1}), Sample(at=at(1), lag={"b": 2})]
    assert [p.value for p in history.lag_points(samples)] == [6.0, 2.0]
    assert [p.value for p in history.lag_points(samples, "a")] == [5.0, None]


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (history.percentile(values, 0.5), history.percentile(values, 0.95)) == (50.0, 95.0)
    assert history.percentile([7.0], 0.95) == 7.0


def test_latency_is_broker_time_minus_the_ingested_at_header() -> None:
    ingested = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    record = SimpleNamespace(
        timestamp=ingested.timestamp() * 1000 + 250, headers=[("ingested_at", b"2025-06-02T09:00:00Z")]
    )
    assert history._latency_ms(record) == 250.0
    assert history._latency_ms(SimpleNamespace(timestamp=0, headers=[])) is None
    assert history._latency_ms(SimpleNamespace(timestamp=0, headers=[("ingested_at", b"soon")])) is None


def test_a_chart_splits_at_gaps_scales_from_zero_and_says_what_it_shows() -> None:
    points = [Point(at(-60), 10.0), Point(at(-30), 20.0), Point(at(-20), None), Point(at(0), 5.0)]
    drawn = chart("Events accepted", "per minute", points, at(-60), NOW)
    assert len(drawn.lines) == 2  # the unknown value breaks the line
    first = [[float(v) for v in xy.split(",")] for xy in drawn.lines[0].split()]
    assert first[0] == [PAD, HEIGHT - PAD - 10 / 20 * (HEIGHT - 2 * PAD)]
    assert first[1][1] == PAD  # the highest value touches the top
    assert drawn.last is not None
    assert drawn.last[0] > first[1][0]
    assert drawn.summary == (
        "Events accepted: latest 5 per minute; highest 20, lowest 5 over the last 60 minutes (3 samples)."
    )
    assert drawn.rows()[0] == ("09:00:00", "5")
    assert drawn.rows()[1] == ("08:40:00", "not known")


def test_an_empty_chart_says_so() -> None:
    drawn = chart("Lag", "messages", [], at(-60), NOW)
    assert (drawn.lines, drawn.last) == ([], None)
    assert drawn.summary == "Lag: no figures in the last 60 minutes yet."
