"""`hubnet identity review list|confirm|reject`, `show` and `split` over a store in a temporary data dir,
acting as county-wide reviewer accounts (the area rule itself: tests/security/test_staff_rules.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.core.settings import Settings
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.timeline.policy import COUNTY_WIDE, Role
from services.timeline.users import UserStore
from tests.unit.identity.events import event, nhs, person


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUBNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUBNET_LOG_FORMAT", "json")
    store = IdentityStore.from_settings(Settings(data_dir=tmp_path))
    service = IdentityService(store)
    service.link(event(person("Amy", "Jones", "2019-05-02", "female", "CO15 1AB", local=("gp", "1")), "r1"))
    service.link(event(person("Amy", "Smith", "2019-05-02", "female", "CM1 2AB", local=("vcs", "2")), "r2"))
    service.link(event(person("Ben", "Jones", "2015-01-01", nhs_number=nhs(7), local=("csc", "P1")), "r3"))
    store.close()
    users = UserStore.from_settings(Settings(data_dir=tmp_path))
    users.add("alice", "alice-password", Role.HUB_MANAGER, [COUNTY_WIDE])
    users.add("bob", "bob-password-1", Role.HUB_PRACTITIONER, [COUNTY_WIDE])
    users.close()
    return tmp_path


def test_review_list_confirm_and_show(data_dir: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["identity", "review", "list", "--by", "alice"])
    assert listed.exit_code == 0, listed.output
    assert "1 review(s)" in listed.output
    store = IdentityStore.from_settings(Settings(data_dir=data_dir))
    (review,) = store.reviews()
    confirmed = runner.invoke(app, ["identity", "review", "confirm", review["review_id"], "--by", "alice"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "merged" in confirmed.output
    again = runner.invoke(app, ["identity", "review", "reject", review["review_id"], "--by", "alice"])
    assert again.exit_code == 2
    assert "already confirmed" in again.output
    shown = runner.invoke(app, ["identity", "show", review["person_id"], "--by", "alice"])
    assert "merge by user:alice" in shown.output
    store.close()


def test_split_moves_an_identifier_to_a_new_person(data_dir: Path) -> None:
    store = IdentityStore.from_settings(Settings(data_dir=data_dir))
    token = "https://hubnet.example.org/Id/local/csc/person|P1"
    person_id = store.persons_of([token])[token]
    result = CliRunner().invoke(
        app, ["identity", "split", person_id, token, "--by", "bob", "--reason", "cousin"]
    )
    assert result.exit_code == 0, result.output
    assert store.persons_of([token])[token] != person_id
    store.close()
