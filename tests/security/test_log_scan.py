"""No personal data in any log line of a whole end-to-end run.

`hubnet up --rate max` (as tests/e2e/test_make_run.py starts it) runs every service as a process,
feeds the samples and replays the demo county through connectors, identity, the timeline and
referrals; meanwhile a member of staff searches by NHS number and by name and date of birth, and
opens family pages, so the web service's request logs are in the scan too. After a
clean Ctrl-C, every line of the stack's own output and of `<data dir>/logs/*.log` is checked
against everyone in the county's people.csv: no NHS number (plain or spaced), given or family
name, or date of birth may appear. Timestamps of log records are left out of the date check.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from services.cli.up import DEMO_PASSWORD

pytestmark = pytest.mark.security
REPO = Path(__file__).resolve().parents[2]
PASSWORD = DEMO_PASSWORD
RUN_S = 60.0


@dataclass(frozen=True)
class Forbidden:
    """The personal data of the county, as regular expressions over a log line."""

    numbers: re.Pattern[str]
    names: re.Pattern[str]
    dates: re.Pattern[str]

    def found(self, line: str) -> list[str]:
        return [m.group(0) for p in (self.numbers, self.names, self.dates) for m in p.finditer(line)]


def _alternatives(values: set[str]) -> str:
    return "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))


def forbidden(people_csv: Path) -> tuple[Forbidden, list[dict[str, str]]]:
    with people_csv.open(newline="", encoding="utf-8") as handle:
        people = list(csv.DictReader(handle))
    numbers = {p["nhs_number"] for p in people if p["nhs_number"]}
    spaced = {f"{n[:3]} {n[3:6]} {n[6:]}" for n in numbers}
    names = {p["given_name"] for p in people} | {
        part.split(":", 1)[-1] for p in people for part in re.split(r"[;|]", p["family_names"]) if part
    }
    dates = {p["birth_date"] for p in people if p["birth_date"]}
    return (
        Forbidden(
            re.compile(rf"(?<!\d)(?:{_alternatives(numbers | spaced)})(?!\d)"),
            re.compile(rf"\b(?:{_alternatives({n for n in names if len(n) > 1})})\b"),
            re.compile(rf"(?:{_alternatives(dates)})"),
        ),
        people,
    )


def _without_timestamps(line: str) -> str:
    """A JSON log record without its `timestamp`; other lines without a leading ISO time."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return re.sub(r"^\s*\d{4}-\d{2}-\d{2}[ T][\d:.]+Z?", "", line)
    if isinstance(record, dict):
        record.pop("timestamp", None)
        return orjson.dumps(record).decode()
    return line


def _staff_reads(api: str, people: list[dict[str, str]]) -> int:
    """Searches and page views by a hub manager, whose values are personal data by design."""
    done = 0
    with httpx.Client(base_url=api, auth=("hub-manager", PASSWORD), timeout=10) as staff:
        for person in people[:10]:
            surname = person["family_names"].split(":", 1)[-1].split(";")[0].split("|")[0]
            for query in (
                {"nhs_number": person["nhs_number"]},
                {"family_name": surname, "birth_date": person["birth_date"]},
            ):
                if all(query.values()):
                    staff.get("/v1/search", params=query)
                    staff.get("/", params=query)
                    done += 2
            staff.get(f"/families/{person['family_id']}")
            done += 1
    return done


def test_no_personal_data_in_any_log_line_of_a_whole_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "HUBNET_"))}
    env |= {"HUBNET_DATA_DIR": str(tmp_path), "HUBNET_LOG_LEVEL": "INFO", "HUBNET_LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--rate", "max"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    running = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "hubnet is running" in line:
                running.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert running.wait(240), "".join(output[-30:])
        api = re.search(r"hub staff web UI\s+(http://127\.0\.0\.1:\d+)/", "".join(output))
        assert api, "".join(output)
        rules, people = forbidden(tmp_path / "demo-county" / "people.csv")
        first = people[0]
        assert len(rules.found(f"{first['nhs_number']} {first['given_name']} {first['birth_date']}")) == 3
        assert _staff_reads(api[1], people) > 10
        time.sleep(RUN_S)  # the county replays at full speed through every service meanwhile
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(90)
        reader.join(10)
    assert code == 0, "".join(output[-20:])
    logs = sorted((tmp_path / "logs").glob("*.log"))
    assert {p.stem for p in logs} >= {"identity", "timeline", "referrals", "api", "ingest"}
    sources = {"hubnet up output": output} | {
        p.name: p.read_text(encoding="utf-8", errors="replace").splitlines() for p in logs
    }
    assert sum(len(lines) for lines in sources.values()) > 100, "the run logged too little to prove anything"
    leaks = [
        f"{name}: {hits} in {line[:200]!r}"
        for name, lines in sources.items()
        for line in lines
        if (hits := rules.found(_without_timestamps(line)))
    ]
    assert leaks == [], "\n".join(leaks[:20])
