"""`hubnet status` without a broker: what needs attention, dead letters by partner and reason,
the rendered view, `--json` and the exit status."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from rich.console import Console
from typer.testing import CliRunner

from schemas.dead_letter import DeadLetter, DeadLetterStatus
from services.cli import status as status_cli
from services.cli.main import app
from services.ops import dead_letters
from services.ops.dead_letters import Entry
from services.ops.heartbeat import Liveness, ServiceState
from services.ops.lag import GroupLag, PartitionLag, Trend
from services.ops.partners import PartnerActivity
from services.ops.status import BrokerStatus, OutboxStatus, StatusReport, TopicStatus

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def letter(partner: str, reason: str, original: bytes, minutes_ago: int = 0) -> DeadLetter:
    return DeadLetter.create(
        connector="hv-csv",
        partner=partner,
        reason=reason,
        original=original,
        trace_id="t",
        rejected_at=NOW - timedelta(minutes=minutes_ago),
    )


def healthy_report() -> StatusReport:
    return StatusReport(
        collected_at=NOW,
        broker=BrokerStatus(bootstrap="127.0.0.1:9092", embedded=True, reachable=True),
        topics=[TopicStatus(name="fh.events", present=True)],
        outbox=OutboxStatus(path="o", backlog=0, oldest_queued_at=None),
        services=[
            ServiceState(
                service="identity",
                instance="h-1",
                version="1.0",
                started_at=NOW - timedelta(hours=1),
                last_beat_at=NOW,
                liveness=Liveness.UP,
            )
        ],
        lag=[
            GroupLag(
                group="timeline",
                partitions=[PartitionLag(topic="fh.linked", partition=0, committed=5, end=7, lag=2)],
                trend=Trend.FALLING,
                change=-3,
            )
        ],
        partners=[PartnerActivity(partner="school", last_input_at=NOW, expected_every_s=86400, stale=False)],
    )


def test_dead_letters_are_grouped_by_partner_connector_and_reason_open_ones_only() -> None:
    a1, a2 = letter("a", "bad date", b"1", 5), letter("a", "bad date", b"2", 1)
    b1, b2 = letter("b", "bad code", b"3"), letter("b", "bad code", b"4")
    replayed = DeadLetterStatus(dead_letter_id=b2.dead_letter_id, state="replayed", by="ops")
    rows = dead_letters.summarise([Entry(a1), Entry(a2), Entry(b1), Entry(b2, replayed)])
    assert [(r.partner, r.reason, r.count, r.oldest_at) for r in rows] == [
        ("a", "bad date", 2, NOW - timedelta(minutes=5)),
        ("b", "bad code", 1, NOW),
    ]
    assert REGISTRY.get_sample_value("hubnet_dead_letters_open", {"partner": "a"}) == 2
    assert REGISTRY.get_sample_value("hubnet_dead_letters_open", {"partner": "b"}) == 1


def test_a_partner_whose_last_dead_letter_is_closed_shows_zero_open() -> None:
    fixed = letter("unit-fixed", "x", b"5")
    closed = DeadLetterStatus(dead_letter_id=fixed.dead_letter_id, state="discarded", by="ops", reason="r")
    assert dead_letters.summarise([Entry(fixed, closed)]) == []
    assert REGISTRY.get_sample_value("hubnet_dead_letters_open", {"partner": "unit-fixed"}) == 0


def test_a_healthy_network_needs_no_attention() -> None:
    assert healthy_report().attention == []
    assert healthy_report().healthy


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"broker": BrokerStatus(bootstrap=None, embedded=True, reachable=False, error="no broker")},
         "broker unreachable: no broker"),
        ({"topics": [TopicStatus(name="fh.events", present=False)]}, "topic fh.events missing"),
        ({"topics": [TopicStatus(name="fh.dlq", present=True, drift=["3 partitions"])]},
         "topic fh.dlq drifted"),
        ({"lag": [GroupLag(group="g", partitions=[PartitionLag(topic="t", partition=0, committed=0, end=5000,
                                                               lag=5000)], trend=Trend.STEADY)]},
         "consumer group g is 5000 behind and steady"),
        ({"partners": [PartnerActivity(partner="p", last_input_at=None, expected_every_s=60, stale=True)]},
         "partner p silent for longer than expected"),
        ({"dead_letters": dead_letters.summarise([Entry(letter("p", "r", b"x")),
                                                  Entry(letter("p", "r", b"y"))])},
         "partner p: 2 open dead letter(s)"),
        ({"outbox": OutboxStatus(path="o", backlog=3, oldest_queued_at="2025-06-02T08:50:00.000Z")},
         "outbox: 3 waiting since 2025-06-02T08:50:00.000Z"),
        ({"errors": ["consumer lag: cannot read (X: y)"]}, "consumer lag: cannot read (X: y)"),
    ],
)  # fmt: skip
def test_each_problem_is_one_attention_line(change: dict[str, object], expected: str) -> None:
    report = healthy_report().model_copy(update=change)
    assert report.attention == [expected]
    assert not report.healthy


def test_a_large_lag_that_is_falling_and_a_fresh_outbox_backlog_need_no_attention() -> None:
    report = healthy_report().model_copy(
        update={
            "lag": [
                GroupLag(
                    group="g",
                    partitions=[PartitionLag(topic="t", partition=0, committed=0, end=9000, lag=9000)],
                    trend=Trend.FALLING,
                )
            ],
            "outbox": OutboxStatus(path="o", backlog=3, oldest_queued_at="2025-06-02T08:58:00.000Z"),
        }
    )
    assert report.attention == []


def test_the_view_shows_every_section() -> None:
    report = healthy_report().model_copy(
        update={"dead_letters": dead_letters.summarise([Entry(letter("p", "bad date", b"x", 90))])}
    )
    console = Console(record=True, width=160)
    console.print(status_cli.view(report))
    text = console.export_text()
    for expected in ("services", "identity", "up", "fh.events", "timeline", "↓ falling (-3)",
                     "open dead letters", "bad date", "1h 30m ago", "school", "1d", "outbox 0 waiting",
                     "partner p: 1 open dead letter(s)"):  # fmt: skip
        assert expected in text


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59, "59s"), (3600, "1h"), (90061, "1d 1h")])
def test_intervals_read_in_their_two_largest_units(seconds: float, text: str) -> None:
    assert status_cli.interval(seconds) == text


def test_status_json_and_exit_status(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setattr(status_cli, "collect", lambda _settings: healthy_report())
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["attention"] == []

    stale = PartnerActivity(partner="p", last_input_at=None, expected_every_s=60, stale=True)
    monkeypatch.setattr(
        status_cli, "collect", lambda _settings: healthy_report().model_copy(update={"partners": [stale]})
    )
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1
    assert "needs attention" in result.output
    assert "stale" in result.output


def test_watch_redraws_until_ctrl_c_and_exits_on_the_last_view(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = PartnerActivity(partner="p", last_input_at=None, expected_every_s=60, stale=True)
    reports = iter([healthy_report().model_copy(update={"partners": [stale]}), healthy_report()])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(status_cli, "collect", lambda _settings: next(reports))
    monkeypatch.setattr("services.cli.status.time.sleep", sleep)
    result = CliRunner().invoke(app, ["status", "--watch", "--every", "2"])
    assert sleeps == [2.0, 2.0]
    assert result.exit_code == 0, result.output  # the first view needed attention, the last did not
