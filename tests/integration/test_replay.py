"""`hubnet generate` then `hubnet replay` through the real broker: every record ends in one place,
sent through the gateway as its (registered, audited) county partner; for synthetic Essex and for
a county generated inside each other test pack (tests/e2e/demo_county.py `COUNTIES`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors import registry
from connectors.base import Rejection, SourceContext
from schemas.audit import AuditRecord
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.topics import AUDIT, DLQ, EVENTS
from services.cli.main import app
from services.core.dead_letters import dead_letter_for
from services.core.settings import Settings
from services.synthetic.replay import deliveries
from tests.e2e.demo_county import COUNTIES, County
from tests.integration.kafka_helpers import read_all

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("which", COUNTIES, ids=lambda c: c.name)
def test_replay_sends_every_record_to_events_or_dead_letters(
    which: County,
    tmp_path: Path,
    settings: Settings,
    bootstrap: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    unique: str,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("HUBNET_DATA_DIR", str(settings.data_dir))
    county = tmp_path / "county"
    runner = CliRunner()
    generated = runner.invoke(
        app,
        [
            "generate",
            "--families",
            "4",
            "--seed",
            "7",
            "--out",
            str(county),
            "--start",
            "2022-04-01",
            "--end",
            "2025-03-31",
            *(["--pack", str(which.pack)] if which.pack else []),
        ],
    )
    assert generated.exit_code == 0, generated.output
    assert runner.invoke(app, ["topics", "apply"]).exit_code == 0
    expected_events: set[str] = set()
    expected_dead: set[str] = set()
    for delivery in deliveries(county):  # what each record must become, computed offline
        ctx = SourceContext(partner=delivery.partner, source_name=delivery.path)
        outcomes = list(registry.get(delivery.fmt).convert(delivery.data, ctx))
        assert outcomes, "every record has an outcome"
        for outcome in outcomes:
            if isinstance(outcome, Rejection):
                expected_dead.add(dead_letter_for(outcome, delivery.fmt, ctx).dead_letter_id)
            else:
                expected_events.add(outcome.event_id)

    result = runner.invoke(app, ["replay", str(county), "--rate", "max", "--by", f"ops-{unique}"])
    assert result.exit_code == 0, result.output
    assert "replayed" in result.output
    assert "registered county partner" in result.output  # explicitly, before sending as them

    events = {
        HubEvent.from_bytes(r.value).event_id for r in read_all(settings, bootstrap, EVENTS, expected=1)
    }
    dead = [DeadLetter.from_bytes(r.value) for r in read_all(settings, bootstrap, DLQ, expected=0)]
    assert expected_events
    assert expected_events <= events, f"{len(expected_events - events)} events never reached fh.events"
    assert expected_dead <= {d.dead_letter_id for d in dead}, "a rejected record is missing from fh.dlq"
    assert not [d for d in dead if d.dead_letter_id in expected_dead and "hubnet fault" in d.reason]
    audits = [AuditRecord.from_bytes(r.value) for r in read_all(settings, bootstrap, AUDIT, expected=1)]
    partners = {d.partner for d in deliveries(county)}
    replayed_as = {a.target for a in audits if a.action == "events.replay" and a.actor == f"ops-{unique}"}
    assert replayed_as == {f"partner:{p}" for p in partners}, "acting as each partner is audited"
