"""CLI tables piped into another program keep every cell whole (issue #20: at rich's assumed 80
columns ids and names were cut to "voluntary-sect…"). Real `hubnet` processes, stdout a pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HUBNET = Path(sys.executable).with_name("hubnet")


def _hubnet(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "HUBNET_DATA_DIR": str(data_dir)}
    env.pop("COLUMNS", None)
    command = [str(HUBNET), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_a_piped_table_cuts_no_cell(tmp_path: Path) -> None:
    _hubnet(tmp_path, "users", "demo")
    listed = _hubnet(tmp_path, "users", "list")
    assert "…" not in listed
    row = next(line for line in listed.splitlines() if "voluntary-sector-worker" in line)
    assert "Demo voluntary sector worker" in row
    assert "food-bank money-advice perinatal-peer-support family-mentoring" in row
