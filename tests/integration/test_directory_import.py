"""The ORUK directory import through the real broker onto the compacted fh.directory topic."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from schemas.topics import DIRECTORY
from services.cli.main import app
from services.core.settings import Settings
from tests.conftest import REPO
from tests.integration.kafka_helpers import read_all

pytestmark = pytest.mark.integration


def test_directory_import_publishes_fhir_resources_keyed_for_compaction(
    settings: Settings, bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("HUBNET_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    assert runner.invoke(app, ["topics", "apply"]).exit_code == 0
    result = runner.invoke(app, ["directory", "import", str(REPO / "samples" / "oruk" / "directory.json")])
    assert result.exit_code == 0, result.output
    records = read_all(settings, bootstrap, DIRECTORY, expected=1)
    keys = {r.key.decode() for r in records}
    assert any(k.startswith("HealthcareService/") for k in keys)
    assert all(k.split("/")[0] in {"HealthcareService", "Organization", "Location"} for k in keys)


def test_a_broken_directory_file_is_reported_and_fails(
    settings: Settings, bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("HUBNET_DATA_DIR", str(settings.data_dir))
    broken = settings.data_dir / "broken.json"
    broken.write_text('{"contents": [{"id": "s1", "name": "x", "eligibilities": [{"minimum_age": "ten"}]}]}')
    result = CliRunner().invoke(app, ["directory", "import", "--dry-run", str(broken)])
    assert result.exit_code == 1
    assert "rejected" in result.output
