"""`hubnet up` as `make run` starts it: a real process tree, the embedded broker, every service,
demo traffic flowing through connectors, identity and the timeline, and a clean Ctrl-C that
closes every store (no `-wal` file left: docs/operations.md, backups)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.up_stack import UpStack, processes_using, store_count, timeline_entries

pytestmark = pytest.mark.e2e


def test_up_runs_the_whole_product_and_stops_cleanly(tmp_path: Path) -> None:
    stack = UpStack(tmp_path).start()
    try:
        stack.running.wait(240)
        text = stack.text
        assert "hubnet is running" in text, text
        assert "dead-lettered" in text, "the sample feeds went through their connectors"
        ui = re.search(r"hub staff web UI\s+(http://127\.0\.0\.1:\d+)/", text)
        assert ui, text
        assert httpx.get(f"{ui[1]}/healthz", timeout=5).status_code == 200
        assert "Sign in" in httpx.get(f"{ui[1]}/", timeout=5, follow_redirects=True).text

        deadline = time.monotonic() + 120
        while timeline_entries(tmp_path) < 50 and time.monotonic() < deadline:
            time.sleep(1)
        assert timeline_entries(tmp_path) >= 50, "demo traffic reached the timeline through identity"
        assert processes_using(tmp_path), "the services run as child processes"
        loaded = store_count(tmp_path, "county", "SELECT count(*) FROM county_versions")
        assert loaded == 1, "make run loads the demo county pack through hubnet county load"
        placed = store_count(tmp_path, "timeline", "SELECT count(*) FROM family WHERE area LIKE 'E07%'")
        assert placed > 0, "families get the hub area of their postcode from the loaded pack"
        wanted = "SELECT count(*) FROM referral WHERE need IN ('infant-feeding', 'speech-language')"
        while store_count(tmp_path, "referrals", wanted) == 0 and time.monotonic() < deadline + 120:
            time.sleep(1)
        assert store_count(tmp_path, "referrals", wanted) > 0, (
            "the demo county's health visitors' referrals reach the router with a need of the network"
        )
    finally:
        code = stack.stop()  # Ctrl-C, as the terminal sends it
    assert code == 0, "".join(stack.output[-20:])
    assert "stopping" in stack.text
    time.sleep(0.5)
    assert processes_using(tmp_path) == [], "no process is left behind"
    assert not (tmp_path / "broker.json").exists()
    logs = sorted(p.name for p in tmp_path.glob("*.sqlite-wal"))
    assert logs == [], "every store was closed, so each main file alone holds its rows (a cp backup)"
