from __future__ import annotations

import pytest
from typer.testing import CliRunner

from schemas.topics import Catalogue, TopicSpec, catalogue
from services.cli.main import app
from services.core import kafka_clients, topics
from services.core.broker import EmbeddedBroker, free_port
from services.core.settings import Settings

pytestmark = pytest.mark.integration


def private_catalogue(unique: str) -> Catalogue:
    """The real catalogue with names made unique, so this test owns its topics on the shared broker."""
    return Catalogue(
        topic=[spec.model_copy(update={"name": f"{spec.name}.{unique}"}) for spec in catalogue().topic]
    )


def test_apply_creates_the_catalogue_then_a_second_apply_is_a_no_op(
    settings: Settings, bootstrap: str, unique: str
) -> None:
    admin = kafka_clients.admin(settings, bootstrap)
    wanted = private_catalogue(unique)
    first = topics.apply(admin, wanted)
    second = topics.apply(admin, wanted)
    assert sorted(first.created) == sorted(wanted.names())
    assert second.created == []
    assert sorted(second.present) == sorted(wanted.names())
    assert second.ok
    described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(wanted.names())}
    assert described == {spec.name: spec.partitions for spec in wanted.topic}
    admin.close()


def test_fewer_partitions_than_the_catalogue_is_reported_as_drift(
    settings: Settings, bootstrap: str, unique: str
) -> None:
    admin = kafka_clients.admin(settings, bootstrap)
    small = TopicSpec(
        name=f"t.{unique}", partitions=1, retention_ms=-1, cleanup_policy="delete", key="k", purpose="p"
    )
    topics.apply(admin, Catalogue(topic=[small]))
    report = topics.check(admin, Catalogue(topic=[small.model_copy(update={"partitions": 4})]))
    assert report.drift == {f"t.{unique}": ["has 1 partitions, catalogue says 4"]}
    admin.close()


def test_broker_stops_by_its_own_pid_and_a_second_one_runs_beside_it(bootstrap: str) -> None:
    with EmbeddedBroker(port=free_port()) as other:
        assert other.running
        assert other.bootstrap != bootstrap
    assert not other.running
    assert other.process is not None
    assert other.process.returncode is not None


def test_status_reports_a_healthy_broker_as_json(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broker of its own: dead letters other tests leave on the session broker need attention."""
    with EmbeddedBroker(port=free_port()) as fresh:
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", fresh.bootstrap)
        monkeypatch.setenv("HUBNET_DATA_DIR", str(tmp_path))
        runner = CliRunner()
        assert runner.invoke(app, ["topics", "apply"]).exit_code == 0
        result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    assert '"reachable": true' in result.output
    assert '"present": false' not in result.output


def test_status_without_a_broker_says_what_to_do(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("HUBNET_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 1
    assert "hubnet up" in result.output
