"""The parts the pipeline benchmark measures with: CPU time of a process tree from /proc, the
time each event becomes visible in the timeline store, and the verdicts `hubnet bench` prints."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Outcome, SourceContext
from connectors.hl7v2.connector import Hl7v2Connector
from services.bench.pipeline import Latency, PipelineResult
from services.bench.procstat import tree_cpu_s
from services.bench.visibility import Visibility
from services.cli.bench import _latency_met, _summary

BUSY = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\ntime.sleep(30)"


def test_cpu_of_a_process_tree_counts_its_children() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BUSY!r}])"]
    )
    try:
        deadline = time.monotonic() + 20
        while tree_cpu_s(parent.pid) < 0.35 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tree_cpu_s(parent.pid) >= 0.35, "the busy grandchild's CPU belongs to the tree"
    finally:
        parent.kill()
        parent.wait(10)
    assert tree_cpu_s(parent.pid) == 0.0, "a process that has gone has no CPU left to count"


def test_visibility_notes_when_each_event_id_is_committed(tmp_path: Path) -> None:
    store = tmp_path / "timeline.sqlite"
    watcher = Visibility(store)
    watcher.start()
    try:
        db = sqlite3.connect(store)
        db.execute("CREATE TABLE applied (event_id TEXT PRIMARY KEY)")
        db.execute("INSERT INTO applied VALUES ('e1')")
        db.commit()
        assert watcher.wait_for({"e1"}, 5)
        before = time.perf_counter()
        db.execute("INSERT INTO applied VALUES ('e2')")
        assert not watcher.wait_for({"e2"}, 0.2), "uncommitted is not visible"
        db.commit()
        assert watcher.wait_for({"e1", "e2"}, 5)
        seen = watcher.seen_at("e2")
        assert seen is not None
        assert seen >= before
        assert watcher.count({"e1", "e2", "e3"}) == 2
        db.close()
    finally:
        watcher.stop()


def _latency(p99_s: float, visible: int = 100, achieved: float = 1000.0) -> Latency:
    return Latency(1000.0, 100, visible, achieved, 0.1, 0.2, p99_s)


def test_the_latency_target_needs_every_event_in_time_at_the_offered_load() -> None:
    assert _latency_met(_latency(0.5))
    assert not _latency_met(_latency(1.2))
    assert not _latency_met(_latency(0.5, visible=99)), "a lost event is no success"
    assert not _latency_met(_latency(0.5, achieved=400.0)), "below the offered load proves nothing"


def test_the_summary_states_the_ratio_and_the_shortfall(tmp_path: Path) -> None:
    result = PipelineResult(tmp_path, records=900, events=1000, visible=1000, wall_s=2.0, feed_s=1.5,
                            mean_event_bytes=2500, latency=_latency(0.5))  # fmt: skip
    lines = "\n".join(_summary(result, []))
    assert "500 events/s" in lines
    assert "10% of the 5,000/s target" in lines
    assert "p99 500 ms" in lines


def test_conversion_times_and_counts_whole_passes_after_one_untimed_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first pass (it imports the models a format needs, once per process) runs before the
    clock starts and is not counted; invalid samples are left out."""
    from services.bench import conversion as module
    from services.bench.measure import timed

    feed = Path(__file__).resolve().parents[3] / "samples" / "hl7v2" / "family-hub-feed.hl7"
    (tmp_path / "hl7v2").mkdir()
    (tmp_path / "hl7v2" / "feed.hl7").write_bytes(feed.read_bytes())
    (tmp_path / "hl7v2" / "invalid.hl7").write_bytes(b"not HL7")
    converted: list[bytes] = []
    before_clock: list[int] = []
    plain = Hl7v2Connector.convert

    def convert(self: Hl7v2Connector, data: bytes, ctx: SourceContext) -> Iterator[Outcome]:
        converted.append(data)
        return plain(self, data, ctx)

    def clock() -> Any:
        before_clock.append(len(converted))
        return timed()

    monkeypatch.setattr(Hl7v2Connector, "convert", convert)
    monkeypatch.setattr(module, "timed", clock)
    figures = module.conversion(tmp_path, min_records=10)
    assert [f.name for f in figures] == ["convert: hl7v2"]
    assert before_clock == [1]  # one untimed pass, then the clock
    assert len(converted) == 3  # and two timed passes
    assert figures[0].items == 10  # of five messages each: the untimed pass is not counted
    assert figures[0].notes == {"events": 10}
