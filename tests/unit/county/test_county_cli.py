"""`hubnet county check` run as the real console script: a summary for a good pack, every problem
with file:line field for a bad one, and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.county.store import CountyStore
from tests.unit.county.packs import PACKS_DIR, copy_pack, each_pack

HUBNET = Path(sys.executable).with_name("hubnet")


def _check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HUBNET), "county", "check", str(folder)], capture_output=True, text=True, timeout=60, check=False
    )


@each_pack()
def test_check_accepts_a_good_pack_and_says_what_it_holds(pack_dir: Path) -> None:
    done = _check(pack_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": ok;" in done.stdout
    assert "postcode(s) placed" in done.stdout


def test_check_prints_each_problem_with_file_line_and_field_and_fails(tmp_path: Path) -> None:
    pack = copy_pack("essex", tmp_path)
    (pack / "districts.csv").write_text(
        "code,name,neighbours\nE07000071,Colchester,E07000076\nE07000076,Tendring,\nE07000073,Harlow,\nX1,Bad,\n"
    )
    (pack / "teams.csv").write_text("id,name,role,hub_areas\nt,T,hub-practitioner,\n")
    done = _check(pack)
    assert done.returncode == 2
    assert "districts.csv:5 code:" in done.stdout
    assert "teams.csv:2 hub_areas:" in done.stdout
    assert "2 problem(s); nothing was loaded" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_check_of_a_folder_that_is_not_there_is_one_clear_line(tmp_path: Path) -> None:
    done = _check(tmp_path / "nowhere")
    assert done.returncode == 2
    assert "not a folder" in done.stdout
    assert "Traceback" not in done.stderr


def test_load_without_a_broker_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    """The load is audited on fh.audit: with no broker to audit it on, nothing is loaded."""
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    done = subprocess.run(
        [str(HUBNET), "county", "load", str(PACKS_DIR / "essex"), "--by", "county-admin"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**env, "HUBNET_DATA_DIR": str(tmp_path / "data")},
    )  # fmt: skip
    assert done.returncode == 2
    assert "no broker" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    store = CountyStore.in_data_dir(tmp_path / "data")
    assert store.latest_version() == 0
    store.close()
