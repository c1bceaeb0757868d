"""The partner gateway as partners meet it: a real uvicorn server on a port, the real broker behind it,
`hubnet publish` against it, and a file-drop process killed mid-file and restarted.

Samples: each registered format's `samples/<format>/` file (written by the connector engineers).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from connectors import registry
from schemas.envelope import HubEvent
from schemas.topics import EVENTS, catalogue
from services.cli.main import app as cli
from services.core import kafka_clients, topics
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.gateway.app import create_app
from services.gateway.claims import claimed_senders
from services.gateway.database import Database
from services.gateway.partners import Partner, PartnerStore
from services.gateway.service import Gateway
from tests.e2e.serving import served
from tests.integration.kafka_helpers import read_all
from tests.integration.test_connector_samples import sample_files
from tests.public_data import public_sample
from tests.sqlite_files import opened
from tests.unit.gateway.support import FORMAT, add_partner, connector_for, line

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def publisher(settings: Settings, bootstrap: str) -> Iterator[DurablePublisher]:
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    publisher = DurablePublisher(settings, bootstrap).start()
    yield publisher
    publisher.close()


@pytest.fixture
def gateway(settings: Settings, publisher: DurablePublisher) -> Iterator[Gateway]:
    gateway = Gateway.open(settings.data_dir, publisher, connector_for=connector_for)
    yield gateway
    gateway.close()


@pytest.fixture
def server(gateway: Gateway) -> Iterator[str]:
    """uvicorn serving the API on a free loopback port, in a thread of this process."""
    with served(create_app(gateway), lifespan="off") as url:
        yield url


def mine(settings: Settings, bootstrap: str, partner: str, expected: int) -> list[str]:
    """Event ids on fh.events from one partner, duplicates included."""
    records = read_all(settings, bootstrap, EVENTS, expected=expected, timeout_s=15)
    return [
        HubEvent.from_bytes(r.value).event_id
        for r in records
        if dict(r.headers)["source_partner"] == partner.encode()
    ]


def test_post_over_real_http_reaches_fh_events(
    server: str,
    gateway: Gateway,
    publisher: DurablePublisher,
    settings: Settings,
    *,
    bootstrap: str,
    unique: str,
) -> None:
    code = f"http-{unique}"
    key = add_partner(gateway, code, formats=(FORMAT,))
    body = "\n".join(line(f"{unique}-{n}", n) for n in range(5)).encode()
    response = httpx.post(f"{server}/v1/events/{FORMAT}", content=body, headers={"X-API-Key": key})
    assert response.status_code == 202, response.text
    accepted = [i["event_id"] for i in response.json()["items"]]
    again = httpx.post(
        f"{server}/v1/events/{FORMAT}", content=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert again.json()["duplicates"] == 5
    assert publisher.flush(30)
    assert sorted(mine(settings, bootstrap, code, 5)) == sorted(accepted)
    status = httpx.get(f"{server}/v1/events/{accepted[0]}", headers={"X-API-Key": key}).json()
    assert status["status"] == "accepted"


@pytest.mark.parametrize("fmt", registry.formats())
def test_every_registered_sample_over_real_http(
    fmt: str, server: str, gateway: Gateway, publisher: DurablePublisher, unique: str
) -> None:
    files = sample_files(fmt)
    if not files:
        pytest.skip(f"samples/{fmt}/ has no sample yet")
    for path in files:
        data = path.read_bytes()
        code = f"s-{unique}-{files.index(path)}"
        key = add_partner(gateway, code, sender_ids=tuple(claimed_senders(fmt, data)), formats=(fmt,))
        response = httpx.post(
            f"{server}/v1/events/{fmt}", content=data, headers={"X-API-Key": key}, timeout=60
        )
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == 0


def test_hubnet_publish_against_the_server(
    server: str, gateway: Gateway, tmp_path: Path, unique: str
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(add_partner(gateway, f"cli-{unique}", formats=(FORMAT,)))
    good = tmp_path / "good.txt"
    good.write_text(line(f"{unique}-a"))
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{unique}-b,1,9990000000,encounter")
    args = [
        "publish",
        "--partner",
        f"cli-{unique}",
        "--format",
        FORMAT,
        "--key-file",
        str(key_file),
        "--url",
        server,
    ]
    result = CliRunner().invoke(cli, [*args, str(good), str(bad)])
    assert result.exit_code == 1, result.output
    assert "good.txt" in result.output
    assert "422" in result.output
    wrong = CliRunner().invoke(cli, ["publish", "--partner", "someone-else", *args[3:], str(good)])
    assert wrong.exit_code == 2
    assert "belongs to partner" in wrong.output


def test_file_drop_killed_mid_file_and_restarted_publishes_each_record_once(
    settings: Settings, bootstrap: str, publisher: DurablePublisher, tmp_path: Path, unique: str
) -> None:
    code = f"drop-{unique}"
    PartnerStore(Database.in_data_dir(settings.data_dir)).add(
        Partner(code=code, name="Drop test", org_ids=("RAT",), formats=(FORMAT,))
    )
    inbox = tmp_path / "drop" / code / FORMAT / "incoming"
    inbox.mkdir(parents=True)
    for f in range(3):
        (inbox / f"batch-{f}.txt").write_text("\n".join(line(f"{unique}-{f}-{n}", n) for n in range(20)))
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "HUBNET_DATA_DIR": str(settings.data_dir)}
    command = [sys.executable, "-m", "tests.integration.gateway_runner", "watch", str(tmp_path / "drop"),
               "--settle", "0", "--interval", "0.1"]  # fmt: skip
    ledger = settings.data_dir / "gateway.sqlite"

    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _states(ledger) == Counter({"done": 1, "processing": 1}), "one file done, one mid-way")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert len(list(inbox.iterdir())) == 2  # the killed file is still in the inbox

    second = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait(lambda: _states(ledger) == Counter({"done": 3}), "all files done after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    done = inbox.parent / "done"
    assert sorted(p.name for p in done.iterdir() if not p.name.endswith(".json")) == [
        f"batch-{f}.txt" for f in range(3)
    ]
    counts = Counter(mine(settings, bootstrap, code, 60))
    assert len(counts) == 60
    assert set(counts.values()) == {1}


def _states(ledger: Path) -> Counter[str]:
    if not ledger.exists():
        return Counter()
    with opened(ledger, read_only=False) as db:
        try:
            return Counter(state for (state,) in db.execute("SELECT state FROM drop_files"))
        except sqlite3.OperationalError:  # the watcher has not created its table yet
            return Counter()


def _wait(condition: object, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for: {what}")


def test_a_fhir_record_with_several_problems_is_answered_with_each_over_real_http(
    server: str, gateway: Gateway, unique: str
) -> None:
    """#19 "Errors a partner can act on": every problem, each at its FHIR path, in plain words."""
    key = add_partner(gateway, f"err-{unique}", formats=("fhir",))
    patient = {
        "resourceType": "Patient",
        "birthDate": "2020-13-01",
        "maritalStatus": [{"text": "x"}],
        "meta": {"lastUpdated": "2024-01-01T10:00:00"},
        "name": [{"family": ""}],
    }
    response = httpx.post(f"{server}/v1/validate/fhir", json=patient, headers={"X-API-Key": key}, timeout=30)
    assert response.status_code == 422, response.text
    [item] = response.json()["errors"]
    assert item["location"] == "Patient"
    for path in (
        "Patient.birthDate",
        "Patient.maritalStatus",
        "Patient.meta.lastUpdated",
        "Patient.name[0].family",
    ):
        assert f"{path}: " in item["reason"]
    assert item["reason"].count(": ") >= 4
    assert "time zone" in item["reason"]
    assert "<class" not in item["reason"]
    assert "\n" not in item["reason"]


def test_a_csv_row_with_several_problems_is_answered_with_each_over_real_http(
    server: str, gateway: Gateway, unique: str
) -> None:
    """#19 follow-up: one SSDA903 episode (the public data-to-insight sample's first row) with four bad
    cells is answered 422 with every one, each at its own line and column, not only the first."""
    key = add_partner(gateway, f"la903-{unique}", formats=("ssda903",))
    lines = public_sample("childrens-social-care", "ssda903", "episodes.csv").read_text("utf-8").splitlines()
    header, row = lines[0], lines[1].split(",")
    columns = header.lower().split(",")
    for column, value in {"decom": "31/02/2016", "ls": "ZZ", "place": "Q9", "rne": "?"}.items():
        row[columns.index(column)] = value
    body = f"{header}\n{','.join(row)}\n".encode()
    response = httpx.post(
        f"{server}/v1/validate/ssda903", content=body, headers={"X-API-Key": key}, timeout=30
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["location"] == "line 2"
    assert error["reason"].startswith("line 2: 4 problems: ")
    [item] = response.json()["result"]["items"]
    places = [problem["location"] for problem in item["problems"]]
    assert places == [f"line 2, column {c}" for c in ("decom", "ls", "place", "rne")]
    for problem in item["problems"]:
        assert f"{problem['location']}: {problem['reason']}" in error["reason"]
        assert problem["reason"].endswith(")")  # what to do, after the reason


def test_social_care_returns_over_real_http_reach_fh_events_with_their_local_authority(
    server: str,
    gateway: Gateway,
    publisher: DurablePublisher,
    settings: Settings,
    *,
    bootstrap: str,
    unique: str,
) -> None:
    """#19: the CIN census LA code travels on every event to the broker; an SSDA903 XML return and
    an episode with REC but no DEC are refused with their reasons, not shown as open episodes."""
    code = f"la-{unique}"
    key = add_partner(gateway, code, sender_ids=("881",), formats=("cin-census", "ssda903"))
    census = (REPO / "samples" / "cin-census" / "cin-census-2025.xml").read_bytes()
    other = add_partner(gateway, f"other-la-{unique}", sender_ids=("201",), formats=("cin-census",))
    posing = httpx.post(
        f"{server}/v1/events/cin-census", content=census, headers={"X-API-Key": other}, timeout=60
    )
    assert posing.status_code == 403, posing.text  # another authority's LA code is never stamped on events
    sent = httpx.post(
        f"{server}/v1/events/cin-census", content=census, headers={"X-API-Key": key}, timeout=60
    )
    assert sent.status_code == 202, sent.text
    assert publisher.flush(30)
    records = read_all(settings, bootstrap, EVENTS, expected=9, timeout_s=15)
    ours = [
        HubEvent.from_bytes(r.value) for r in records if dict(r.headers)["source_partner"] == code.encode()
    ]
    assert len(ours) == 9
    for event in ours:
        patient = next(e.resource for e in event.entries if e.resource["resourceType"] == "Patient")
        assert patient["managingOrganization"]["identifier"]["value"] == "881"
    xml = httpx.post(
        f"{server}/v1/validate/ssda903", content=b"<Message><Header/></Message>", headers={"X-API-Key": key}
    )
    assert xml.status_code == 422
    assert "XML return not supported; send the CSV tables" in xml.json()["errors"][0]["reason"]
    episodes = b"CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC\nC-9,03/02/2024,S,C1,N1,U6,PR1,,E11\n"
    open_with_reason = httpx.post(
        f"{server}/v1/validate/ssda903", content=episodes, headers={"X-API-Key": key}
    ).json()["errors"][0]
    assert open_with_reason["location"] == "line 2, column dec"
    assert "rule 148" in open_with_reason["reason"]
