"""Over real HTTP, with the reference store on a real SQLite file: a family page names the school and
the hub area from the reference data the county loaded, and shows the code of an unknown one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors import registry
from connectors.base import SourceContext
from schemas.envelope import HubEvent
from schemas.event_types import EventType
from services.reference.files import ReferenceFileError
from services.reference.store import ReferenceStore, load_file
from services.web.app import create_app
from tests.e2e.serving import served
from tests.unit.timeline.events import feed, linked
from tests.unit.timeline.world import PASSWORD, build

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
ATTENDANCE = EventType.ATTENDANCE
GIAS = 'URN,LA (code),EstablishmentNumber,EstablishmentName\r\n990001,881,2001,"Clacton Primary School"\r\n'
DISTRICTS = "code,name\nE07000076,Tendring\n"


def attendance(index: int) -> tuple[dict[str, object], ...]:
    """The Observation the real attendance connector makes of one sample row."""
    data = (SAMPLES / "attendance-csv" / "attendance-return.csv").read_bytes()
    outcomes = registry.get("attendance-csv").convert(data, SourceContext("school", "t"))
    events = [o for o in outcomes if isinstance(o, HubEvent) and o.event_type is EventType.ATTENDANCE]
    return tuple(e.resource for e in events[index].entries if e.resource["resourceType"] == "Observation")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "gias.csv").write_text(GIAS, encoding="utf-8")
    (tmp_path / "districts.csv").write_text(DISTRICTS, encoding="utf-8")
    names = ReferenceStore.open(tmp_path / "reference.sqlite")
    load_file(names, "gias", tmp_path / "gias.csv")
    load_file(names, "districts", tmp_path / "districts.csv")
    store, users, audit = build(tmp_path / "timeline.sqlite")
    known, unknown = attendance(0), attendance(2)
    unknown[0]["performer"] = [
        {"identifier": {"system": "https://fhir.hl7.org.uk/Id/urn-school-number", "value": "990777"}}
    ]
    feed(
        store,
        linked(person="baby", record="ref-a", partner="school", event_type=ATTENDANCE, extra=known),
        linked(person="baby", record="ref-b", partner="school", event_type=ATTENDANCE, extra=unknown),
    )  # fmt: skip
    with served(create_app(store, users, audit, b"r" * 32, names=names.name_of)) as url:
        yield url
    store.close()
    names.close()


def signed_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False)
    page = client.get("/sign-in").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    form = {"username": "hub-practitioner", "password": PASSWORD, "csrf": token.group(1), "next": "/"}
    assert client.post("/sign-in", data=form).status_code == 303
    return client


def test_family_page_names_organisations_from_reference_data_and_shows_unknown_codes(site: str) -> None:
    client = signed_in(site)
    page = client.get("/families/f1").text
    client.close()
    assert "recorded by Clacton Primary School" in page
    assert "recorded by 990777" in page  # not in the register: the code, never a blank
    assert "hub area Tendring" in page


def test_a_bad_reference_file_is_refused_with_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "gias.csv").write_text("URN,EstablishmentName\n12,Somewhere\n990002,\n", encoding="utf-8")
    names = ReferenceStore.open(tmp_path / "reference.sqlite")
    with pytest.raises(ReferenceFileError) as refused:
        load_file(names, "gias", tmp_path / "gias.csv")
    assert "line 2, column 1 (URN): '12' is not valid" in str(refused.value)
    assert "line 3, column 2 (EstablishmentName): the name is empty" in str(refused.value)
    assert names.rows("gias") == []
    names.close()
