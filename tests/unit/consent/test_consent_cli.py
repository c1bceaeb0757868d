"""`hubnet consent`: a bad NHS number or an unregistered partner is one plain sentence (nothing
queued), and `list` shows the standing decisions of a family with who recorded them, read from the
timeline store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.core.settings import Settings
from services.timeline.policy import COUNTY_WIDE, Role
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from tests.security.test_consent_authority import FAMILY, PERMIT_2099_BY_B, WITHDRAWAL_BY_A
from tests.unit.timeline.events import feed


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUBNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUBNET_LOG_FORMAT", "json")
    return tmp_path


@pytest.mark.parametrize(
    ("command", "number", "about", "message"),
    [
        ("withdraw", "1234567890", "food-bank", "not a valid NHS number"),
        # checked before the account: a mistyped code would be a decision about nobody
        ("record", "9990000018", "food-bnak", "'food-bnak' is not an active registered partner"),
    ],
    ids=["bad-nhs-number", "partner-not-registered"],
)
def test_a_decision_with_a_mistake_says_what_to_fix(
    data_dir: Path, command: str, number: str, about: str, message: str
) -> None:
    result = CliRunner().invoke(
        app, ["consent", command, "--nhs-number", number, "--about", about, "--by", "hv-jones"]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_list_shows_the_standing_decision_and_its_recorder(data_dir: Path) -> None:
    store = TimelineStore.from_settings(Settings(data_dir=data_dir))
    feed(store, WITHDRAWAL_BY_A, PERMIT_2099_BY_B)
    store.close()
    users = UserStore.from_settings(Settings(data_dir=data_dir))
    users.add("manager", "a long enough password", Role.HUB_MANAGER, [COUNTY_WIDE])
    users.close()
    result = CliRunner().invoke(app, ["consent", "list", "--family", FAMILY, "--by", "manager"])
    assert result.exit_code == 0, result.output
    assert "withdrawn" in result.output
    assert "partner-a" in result.output
    assert "permit" not in result.output


def test_partners_add_records_whose_consent_a_partner_may_record_and_list_shows_it(data_dir: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "partners",
            "add",
            "essex-hv",
            "--name",
            "Essex HV",
            "--org-id",
            "RAT",
            "--consent-for",
            "food-bank",
        ],
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["partners", "list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "food-bank" in listed.output


def test_the_staff_recorders_code_cannot_be_registered(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["partners", "add", "hubnet-staff", "--name", "x", "--org-id", "RAT"])
    assert result.exit_code != 0
    assert "hubnet" in result.output
    assert "Traceback" not in result.output
