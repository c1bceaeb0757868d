"""The ops pages of the staff app through the TestClient, without a broker: operations role only
(403 and an audit record for every other role), the overview from the monitor's report and
samples, dead-letter filters, detail, replay and discard forms with CSRF and a mandatory reason.

The dead letter that replays is the first record of our own sample samples/hv-csv/hv-reviews.csv
(synthetic, test-range NHS numbers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemas.audit import AuditRecord
from schemas.dead_letter import DeadLetter, DeadLetterStatus
from schemas.topics import AUDIT, DLQ_STATUS, EVENTS
from services.core.settings import Settings
from services.ops.dead_letters import Entry
from services.ops.history import Sample
from services.ops.store import OpsStore
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.web import routes_ops
from services.web.app import create_app
from tests.unit.gateway.support import ListPublisher, add_partner
from tests.unit.ops.test_status_view import healthy_report
from tests.unit.timeline.world import PASSWORD, build

REPO = Path(__file__).resolve().parents[3]
HV_SAMPLE = REPO / "samples" / "hv-csv" / "hv-reviews.csv"
NOW = datetime.now(UTC).replace(microsecond=0)


def letter(
    partner: str, reason: str, original: bytes, hours_ago: float, connector: str = "hv-csv"
) -> DeadLetter:
    return DeadLetter.create(
        connector=connector, partner=partner, reason=reason, original=original, trace_id="t",
        rejected_at=NOW - timedelta(hours=hours_ago), location="line 2, column review_type",
        record_ref="line 2", source_name="hv-reviews.csv",
    )  # fmt: skip


def replayable() -> bytes:
    header, first = HV_SAMPLE.read_text().splitlines()[:2]
    return f"{header}\n{first}\n".encode()


@dataclass
class Ops:
    client: TestClient
    store: AuditStore
    ops_store: OpsStore
    published: ListPublisher
    entries: list[Entry]

    def sign_in(self, user: str) -> None:
        token = csrf(self.client.get("/sign-in").text)
        form = {"username": user, "password": PASSWORD, "csrf": token, "next": "/ops"}
        assert self.client.post("/sign-in", data=form, follow_redirects=False).status_code == 303

    def token(self) -> str:
        return csrf(self.client.get("/ops/dead-letters").text)

    def ids(self) -> list[str]:
        return [e.letter.dead_letter_id for e in self.entries]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "page without a CSRF token"
    return found.group(1)


@pytest.fixture
def ops(tmp_path: Path) -> Iterator[Ops]:
    store, users, trail = build()
    published = ListPublisher()
    entries = [
        Entry(letter("nelft-hv", "review_type 'newborn-check' is not a known review", replayable(), 5)),
        Entry(letter("nelft-hv", "birth_date is not a date", b"record_id\n<script>alert(1)</script>\n", 3)),
        Entry(letter("school-a", "column upn missing", b"pupil\n1\n", 1, connector="attendance-csv")),
        Entry(
            letter("school-a", "old", b"closed\n", 30, connector="attendance-csv"),
            DeadLetterStatus(dead_letter_id="x", state="discarded", by="ops", reason="test data"),
        ),
    ]
    trail.publisher = published
    app = create_app(store, users, trail, b"s" * 32)
    routes_ops.install(
        app, Settings(data_dir=tmp_path), load_dead_letters=lambda: entries, publisher=published
    )
    add_partner(app.state.ops.gateway, "nelft-hv", formats=("hv-csv",))  # replays go as the partner
    add_partner(app.state.ops.gateway, "school-a", formats=("attendance-csv",))
    with TestClient(app) as client:
        yield Ops(client, trail.store, app.state.ops.store, published, entries)
    app.state.ops.gateway.close()
    app.state.ops.store.close()
    store.close()


PAGES = ["/ops", "/ops/dead-letters", "/ops/dead-letters/abc"]


def test_signed_out_visitors_are_sent_to_sign_in(ops: Ops) -> None:
    for page in PAGES:
        response = ops.client.get(page, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/sign-in?next={page}"
    assert ops.client.get("/ops/collected").status_code == 401


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.OPERATIONS])
def test_every_other_role_is_refused_and_the_attempt_audited(ops: Ops, role: Role) -> None:
    ops.sign_in(role.value)
    for page in [*PAGES, "/ops/collected"]:
        assert ops.client.get(page).status_code == 403, page
    token = csrf(ops.client.get("/ops").text)  # the 403 page carries the sign-out form
    replay = ops.client.post("/ops/dead-letters/replay", data={"csrf": token, "id": ops.ids()[0]})
    discard = ops.client.post(
        f"/ops/dead-letters/{ops.ids()[0]}/discard", data={"csrf": token, "reason": "r"}
    )
    assert (replay.status_code, discard.status_code) == (403, 403)
    assert not [m for m in ops.published.messages if m.topic != AUDIT]
    rows = ops.store.audit_rows(actor=role.value, limit=100)
    attempts = [row for row in rows if row["action"] != "staff.sign-in"]  # the sign-in was allowed
    actions = {"ops.overview", "ops.dlq.list", "ops.dlq.read", "ops.dlq.replay", "ops.dlq.discard"}
    assert {row["action"] for row in attempts} >= actions
    assert {row["outcome"] for row in attempts} == {"denied"}


def test_overview_without_a_monitor_says_how_to_start_one(ops: Ops) -> None:
    ops.sign_in("operations")
    page = ops.client.get("/ops")
    assert page.status_code == 200
    assert "has not collected with this data folder" in page.text
    assert ops.client.get("/ops/collected").text == ""
    assert ops.store.audit_rows(actor="operations", limit=1)[0]["action"] == "ops.overview"


def save_monitor(ops: Ops, collected_at: datetime) -> None:
    report = healthy_report().model_copy(update={"collected_at": collected_at})
    ops.ops_store.save_monitor_report(collected_at, 30.0, report.model_dump_json())
    for minutes, events in ((-40, 1000), (-20, 1600), (0, 1700)):
        at = collected_at + timedelta(minutes=minutes)
        sample = Sample(at=at, events=events, dead_letters=3, lag={"timeline": 2}, latency_p95_ms=120.0)
        ops.ops_store.add_monitor_sample(at, sample.model_dump_json())


def test_overview_shows_the_monitors_figures_with_charts_and_their_text(ops: Ops) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # when the test runs: the page judges freshness by it
    save_monitor(ops, now)
    ops.sign_in("operations")
    page = ops.client.get("/ops").text
    assert "All well" in page
    assert "identity" in page
    assert "h-1" in page
    assert "fh.linked 2" in page  # lag by topic
    assert page.count('role="img"') == 5  # four charts of the last hour and the lag row's
    assert "Events accepted: latest 5 per minute; highest 30, lowest 5 over the last 60 minutes" in page
    assert "Ingest to linked, 95th percentile: latest 120 ms" in page
    assert 'src="/static/ops.js"' in page
    assert "<script>" not in page
    assert ops.client.get("/ops/collected").text == now.isoformat()
    assert "it may have stopped" not in page


def test_overview_warns_when_the_monitor_is_overdue(ops: Ops) -> None:
    save_monitor(ops, datetime.now(UTC) - timedelta(minutes=10))
    ops.sign_in("operations")
    assert "The monitor has not collected for 10m" in ops.client.get("/ops").text


def test_dead_letter_filters(ops: Ops) -> None:
    ops.sign_in("operations")

    def listed(**query: str) -> int:
        response = ops.client.get("/ops/dead-letters", params=query)
        assert response.status_code == 200, response.text
        return len(re.findall(r'href="/ops/dead-letters/[0-9a-f]{32}"', response.text))

    assert listed() == 3  # open ones only
    assert listed(state="all") == 4
    assert listed(partner="nelft-hv") == 2
    assert listed(connector="attendance-csv") == 1
    assert listed(reason="DATE") == 1
    assert listed(since=(NOW - timedelta(hours=4)).isoformat()) == 2
    assert listed(until=(NOW - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")) == 1
    today = NOW.date().isoformat()
    assert listed(since=today, until=today) == sum(
        (NOW - timedelta(hours=h)).date() == NOW.date() for h in (5, 3, 1)
    )
    assert ops.store.audit_rows(actor="operations", limit=1)[0]["target"].startswith("since=")
    bad = ops.client.get("/ops/dead-letters?since=last+tuesday")
    assert bad.status_code == 400
    assert "Enter &#39;since&#39; as a date like 2025-06-01" in bad.text


def test_the_list_names_each_place_once(ops: Ops) -> None:
    ops.sign_in("operations")
    page = ops.client.get("/ops/dead-letters").text
    assert "hv-reviews.csv line 2, column review_type" in page
    assert "line 2 line 2" not in page


def test_detail_shows_the_reason_and_the_original_input_escaped(ops: Ops) -> None:
    ops.sign_in("operations")
    page = ops.client.get(f"/ops/dead-letters/{ops.ids()[1][:10]}")
    assert page.status_code == 200
    assert "birth_date is not a date" in page.text
    assert "line 2, column review_type" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert ops.client.get("/ops/dead-letters/0000").status_code == 404


def test_replay_needs_csrf_and_a_selection_then_summarises(ops: Ops) -> None:
    ops.sign_in("operations")
    token = ops.token()
    assert ops.client.post("/ops/dead-letters/replay", data={"id": ops.ids()[0]}).status_code == 400
    none_picked = ops.client.post("/ops/dead-letters/replay", data={"csrf": token, "scope": "selected"})
    assert none_picked.status_code == 400
    assert "Select at least one open dead letter to replay" in none_picked.text
    done = ops.client.post(
        "/ops/dead-letters/replay", data={"csrf": token, "scope": "selected", "id": ops.ids()[:2]}
    )
    assert done.status_code == 200
    assert "1 of 2 replayed, 1 still failing" in done.text
    assert len(ops.published.on(EVENTS)) >= 1
    [status] = [DeadLetterStatus.from_bytes(m.value) for m in ops.published.on(DLQ_STATUS)]
    assert (status.dead_letter_id, status.state, status.by) == (ops.ids()[0], "replayed", "operations")


def test_replay_of_what_the_filters_show_takes_open_ones_only(ops: Ops) -> None:
    ops.sign_in("operations")
    form = {"csrf": ops.token(), "scope": "filtered", "partner": "school-a"}
    done = ops.client.post("/ops/dead-letters/replay", data=form)
    assert "0 of 1 replayed, 1 still failing" in done.text  # the discarded one is not retried
    assert ops.store.audit_rows(actor="operations", limit=1)[0]["target"] == "partner=school-a"


def test_discard_needs_csrf_and_a_reason_and_is_audited(ops: Ops) -> None:
    ops.sign_in("operations")
    target = f"/ops/dead-letters/{ops.ids()[2]}/discard"
    token = ops.token()
    assert ops.client.post(target, data={"reason": "test data"}).status_code == 400
    missing = ops.client.post(target, data={"csrf": token, "reason": "   "})
    assert missing.status_code == 400
    assert "Enter why nobody will fix this input" in missing.text
    assert not ops.published.on(DLQ_STATUS)
    done = ops.client.post(target, data={"csrf": token, "reason": "school test file"}, follow_redirects=False)
    assert done.status_code == 303
    assert "discarded" in ops.client.get(done.headers["location"]).text
    [status] = [DeadLetterStatus.from_bytes(m.value) for m in ops.published.on(DLQ_STATUS)]
    assert (status.state, status.reason, status.by) == ("discarded", "school test file", "operations")
    audits = [AuditRecord.from_bytes(m.value) for m in ops.published.on(AUDIT)]
    discard = [a for a in audits if a.action == "dlq.discard"]
    assert [(a.actor, a.target, a.reason) for a in discard] == [
        ("operations", ops.ids()[2], "school test file")
    ]
    closed = ops.client.post(f"/ops/dead-letters/{ops.entries[3].letter.dead_letter_id}/discard",
                             data={"csrf": token, "reason": "again"})  # fmt: skip
    assert closed.status_code == 409


def test_replay_goes_as_the_letters_partner_and_a_revoked_partner_is_not_replayed(ops: Ops) -> None:
    ops.sign_in("operations")
    app_gateway = ops.client.app.state.ops.gateway  # type: ignore[attr-defined]
    app_gateway.partners.revoke("nelft-hv")
    form = {"csrf": ops.token(), "scope": "selected", "id": ops.ids()[:1]}
    done = ops.client.post("/ops/dead-letters/replay", data=form)
    assert "0 of 1 replayed, 1 still failing" in done.text
    assert ops.published.on(EVENTS) == []
    audits = [AuditRecord.from_bytes(m.value) for m in ops.published.on(AUDIT)]
    assert any(a.action == "events.replay" and a.actor == "operations" and a.target == "partner:nelft-hv"
               for a in audits), "the operator acting as the partner is audited"  # fmt: skip
    assert any(a.outcome == "denied" and "not an active partner" in (a.reason or "") for a in audits)
