"""Consent -> router, end to end through the real parts (#20): a charity's food-bank referral for a
Tendring child is held for the family's consent; a health visitor records the consent in the staff
UI over real HTTP (sign in, CSRF, form post), and the referral is released through the identity and
referral workers on the broker: it reaches the food bank's inbox, leaves the hub manager's held
queue, and the family page tells its journey, held then sent. The food bank completes it; the
family then withdraws consent (`hubnet consent withdraw`, acting as the health visitor): the
timeline hides the charity's entries, and the charity's next referral is held again, seen by the
hub manager only.

Everything runs as in production, one process each: an embedded broker of the test's own (so no
other test's events reach these workers), `hubnet worker identity|timeline|referrals`, `hubnet serve
ingest` (the partner sends its CSV over HTTP with its key) and `hubnet serve api`; the demo-shaped
county pack is loaded with `hubnet county load`. Waits poll the pages; nothing is timed.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from schemas.topics import catalogue
from services.core import kafka_clients, topics
from services.core.broker import EmbeddedBroker, free_port
from services.core.settings import Settings
from services.core.supervisor import Supervisor
from services.gateway.database import Database
from services.gateway.partners import Partner, PartnerStore
from services.timeline.policy import Role
from services.timeline.users import UserStore
from tests.security.referral_ui import PASSWORD
from tests.security.test_referral_ui_http import _csrf, sign_in
from tests.unit.referrals.networks import demo_pack
from tests.unit.referrals.support import CLACTON, nhs
from tests.unit.timeline.events import TENDRING

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
CHARITY, CHARITY_NUMBER = "tendring-foodbank", "1234567"
CHILD_NHS = nhs(4242)
CHILD = "Amy Testchild"
HEADER = "record_id,record_version,organisation,activity,date,local_id,given_name,family_name,birth_date,postcode,nhs_number,service_name,notes"  # noqa: E501 - the contract's header line
WAIT_S = 90.0


def referral_csv(record_id: str) -> bytes:
    """One food-bank referral in the voluntary-sector CSV contract (connectors/vcs), from the charity."""
    today = datetime.now(UTC).date().isoformat()
    child = f"C-1,Amy,Testchild,2020-05-02,{CLACTON},{CHILD_NHS}"
    row = f"{record_id},1,{CHARITY_NUMBER},foodbank-referral,{today},{child},Food bank,"
    return f"{HEADER}\n{row}\n".encode()


@dataclass
class Stack:
    api: str
    ingest: str
    key: str
    env: dict[str, str]
    supervisor: Supervisor

    def hubnet(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.cli", *args],
            cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def send(self, record_id: str) -> None:
        response = httpx.post(
            f"{self.ingest}/v1/events/vcs-csv", content=referral_csv(record_id),
            headers={"X-API-Key": self.key, "Content-Type": "text/csv"}, timeout=30,
        )  # fmt: skip
        assert response.status_code == 202, response.text
        assert [i["status"] for i in response.json()["items"]] == ["accepted"], response.text

    def logs(self) -> str:
        return "\n".join(f"--- {c.name}\n{c.tail(30)}" for c in self.supervisor.children)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _prepare(data_dir: Path, env: dict[str, str]) -> str:
    """The county pack, the staff accounts and the charity's registration; the charity's key."""
    pack = demo_pack(data_dir / "county", (CLACTON,))  # the demo county's sites and services
    loaded = subprocess.run(
        [sys.executable, "-m", "services.cli", "county", "load", str(pack), "--by", "e2e-test"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    settings = Settings(data_dir=data_dir)
    users = UserStore.from_settings(settings)
    users.add("hv", PASSWORD, Role.HEALTH_VISITOR, [TENDRING], services=["family-support"])
    users.add("food", PASSWORD, Role.VOLUNTARY_SECTOR_WORKER, [TENDRING], services=["food-bank"])
    users.add("boss", PASSWORD, Role.HUB_MANAGER, [TENDRING])
    users.close()
    database = Database.at(settings)
    try:
        partner = Partner(
            code=CHARITY, name="Tendring Community Food Bank", org_ids=(CHARITY_NUMBER,), formats=("vcs-csv",)
        )
        return PartnerStore(database).add(partner).token
    finally:
        database.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with EmbeddedBroker(port=free_port()) as broker:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("HUBNET_", "KAFKA_"))},
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "HUBNET_BROKER_PROFILE": "embedded",
            "HUBNET_DATA_DIR": str(tmp_path),
            "HUBNET_SESSION_SECRET": "e2e-" + "0" * 60,
            "HUBNET_LOG_FORMAT": "json",
        }
        settings = Settings(
            KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, data_dir=tmp_path, broker_profile="embedded"
        )
        admin = kafka_clients.admin(settings, broker.bootstrap)
        topics.apply(admin, catalogue())
        admin.close()
        key = _prepare(tmp_path, env)
        supervisor = Supervisor(env=env, log_dir=tmp_path / "logs")
        api, ingest = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
        try:
            for worker in ("identity", "timeline", "referrals"):
                supervisor.start(worker, _cli("worker", worker), {"HUBNET_HEALTH_PORT": str(free_port())})
            supervisor.start("ingest", _cli("serve", "ingest", "--port", ingest.rsplit(":", 1)[1]))
            supervisor.start("api", _cli("serve", "api", "--port", api.rsplit(":", 1)[1]))
            found = Stack(api, ingest, key, env, supervisor)
            deadline = time.monotonic() + WAIT_S
            while not (_answers(f"{api}/healthz") and _answers(f"{ingest}/healthz")):
                assert not supervisor.failed(), found.logs()
                assert time.monotonic() < deadline, f"the HTTP services did not start\n{found.logs()}"
                time.sleep(0.5)
            yield found
        finally:
            supervisor.stop()


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.cli", *args]


def eventually(what: str, stack: Stack, check: Callable[[], str | None]) -> str:
    """Poll `check` until it returns a page (not None); fail naming `what`, with the services' logs."""
    deadline = time.monotonic() + WAIT_S
    while (found := check()) is None:
        assert not stack.supervisor.failed(), stack.logs()
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_S:.0f} s\n{stack.logs()}"
        time.sleep(0.5)
    return found


def page_when(
    client: httpx.Client, path: str, condition: Callable[[str], bool]
) -> Callable[[str], str | None]:
    """A poll of the page at `path`, read with its HTML entities undone."""

    def check() -> str | None:
        text = html.unescape(client.get(path).text)
        return text if condition(text) else None

    return check


def manager_sections(page: str) -> tuple[str, str]:
    """The hub manager's page as (held and waiting queue, the rest)."""
    queue, rest = page.split("Overdue</caption>", 1)
    return queue.split("consent awaited)</caption>", 1)[1], rest


def journeys(page: str) -> list[str]:
    """The family page's referral journeys, newest first: each its heading (need: status) and steps."""
    part = page.split("Consent and referrals", 1)[1].split("<h2", 1)[0]
    return part.split("<h3")[1:]


def test_consent_recorded_in_the_ui_releases_the_held_referral_and_a_withdrawal_holds_the_next(
    stack: Stack,
) -> None:
    stack.send("FB-1")
    with httpx.Client(base_url=stack.api, timeout=30) as client:
        sign_in(client, "boss")
        held = page_when(client, "/referrals", lambda p: CHILD in manager_sections(p)[0])
        eventually("the referral held in the hub manager's queue", stack, held)
        sign_in(client, "food")
        assert CHILD not in client.get("/referrals").text, "held for consent: not at the food bank yet"

        sign_in(client, "hv")
        found = page_when(client, f"/?nhs_number={CHILD_NHS}", lambda p: "/families/" in p)
        results = eventually("the child on the health visitor's timeline", stack, found)
        family_id = re.findall(r'href="/families/([^"?]+)"', results)[0]
        child_id = re.findall(r'href="/persons/([^"?]+)"', results)[0]
        form = client.get(f"/families/{family_id}/consent")
        assert form.status_code == 200, form.text
        assert CHARITY in form.text, "the registered charity is offered as a partner"
        posted = client.post(f"/families/{family_id}/consent", data={
            "csrf": _csrf(form.text), "decision": "permit", "given_by": child_id, "method": "in-person",
            "about": CHARITY, "given_on": datetime.now(UTC).date().isoformat(),
        })  # fmt: skip
        assert posted.status_code == 303, posted.text
        assert posted.headers["location"] == f"/families/{family_id}?consent=given"

        sign_in(client, "food")
        inbox = page_when(client, "/referrals", lambda p: CHILD in p)
        eventually("the released referral in the food bank's inbox", stack, inbox)
        referral_id = re.findall(r'href="/referrals/([^"?]+)"', client.get("/referrals").text)[0]

        sign_in(client, "boss")
        queue, rest = manager_sections(client.get("/referrals").text)
        assert CHILD not in queue, "no longer held in the hub manager's queue"
        assert CHILD in rest, "shown at services"
        [steps] = journeys(html.unescape(client.get(f"/families/{family_id}").text))
        held_at = steps.index("held until the family's consent is recorded")
        assert steps.index("sent to a service", held_at) > held_at

        sign_in(client, "hv")
        timeline = html.unescape(client.get(f"/families/{family_id}").text)
        assert "Consent to share with Tendring foodbank given" in timeline
        assert "Food bank referral" in timeline, "the charity's entry, shown while consent stands"

        sign_in(client, "food")  # the food bank works it to the end
        for action, reason in (("accept", ""), ("start", ""), ("complete", "Food parcels for two weeks")):
            page = client.get(f"/referrals/{referral_id}")
            done = client.post(f"/referrals/{referral_id}", data={
                "csrf": _csrf(page.text), "action": action, "reason": reason,
            })  # fmt: skip
            assert done.status_code == 303, (action, done.text)

    withdrawn = stack.hubnet(
        "consent", "withdraw", "--nhs-number", CHILD_NHS, "--about", CHARITY, "--by", "hv",
        "--note", "withdrawn by phone by the family's carer",
    )  # fmt: skip
    assert withdrawn.returncode == 0, withdrawn.stdout + withdrawn.stderr
    assert "withdrawal recorded" in withdrawn.stdout
    with httpx.Client(base_url=stack.api, timeout=30) as client:
        sign_in(client, "hv")
        standing = page_when(
            client, f"/families/{family_id}/consent", lambda p: ": withdrawn, recorded by" in p
        )
        eventually("the withdrawal on the family's consent page", stack, standing)
        timeline = html.unescape(client.get(f"/families/{family_id}").text)
        assert "Consent to share with Tendring foodbank withdrawn" in timeline
        assert "Food bank referral" not in timeline, "the charity's entries are hidden once withdrawn"

    stack.send("FB-2")
    with httpx.Client(base_url=stack.api, timeout=30) as client:
        sign_in(client, "boss")
        again = page_when(client, "/referrals", lambda p: CHILD in manager_sections(p)[0])
        eventually("the next referral held after the withdrawal", stack, again)
        newest, first = journeys(html.unescape(client.get(f"/families/{family_id}").text))
        assert ": held until the family's consent is recorded</h3>" in newest
        assert ": closed: work completed</h3>" in first
        sign_in(client, "food")
        assert CHILD not in client.get("/referrals").text, "a withdrawal keeps it from the voluntary sector"
