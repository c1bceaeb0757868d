"""`hubnet identity score` on the small synthetic county: people are found (the generator's mess
notwithstanding) and, now that partners state relationships (NK1, RelatedPerson, NEMS birth
notifications, CTF contacts, social care family ids), so are most families, with no hub family
mixing two true ones. Small-county floors; the 5,000-family figures are in docs/identity.md."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from services.cli.main import app
from services.synthetic.identity_score import score
from tests.unit.synthetic.conftest import County


def test_people_and_families_are_recovered_from_the_generated_feeds(county: County, tmp_path: Path) -> None:
    report = score(county.root, tmp_path / "identity.sqlite")
    assert report.precision >= 0.995
    assert report.recall >= 0.97
    assert report.verified_nhs_conflicts == 0
    assert report.families_recovered >= 0.8
    assert report.families_pure == 1.0


def test_score_command_prints_clean_json_when_not_on_a_terminal(county: County, tmp_path: Path) -> None:
    """Piped output (CI logs, scripts) gets the report alone: no progress text run together."""
    result = CliRunner().invoke(
        app, ["identity", "score", str(county.root), "--json"], env={"HUBNET_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["precision"] >= 0.995
    assert "deliveries" not in result.stderr
