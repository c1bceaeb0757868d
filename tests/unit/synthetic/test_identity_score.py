"""`hubnet identity score` on the small synthetic county: people are found (the generator's mess
notwithstanding) and, now that partners state relationships (NK1, RelatedPerson, NEMS birth
notifications, CTF contacts, social care family ids), so are most families, with no hub family
mixing two true ones. Small-county floors; the 5,000-family figures are in docs/identity.md."""

from __future__ import annotations

from pathlib import Path

from services.identity.evaluation import score
from tests.unit.synthetic.conftest import County


def test_people_and_families_are_recovered_from_the_generated_feeds(county: County, tmp_path: Path) -> None:
    report = score(county.root, tmp_path / "identity.sqlite")
    assert report.precision >= 0.995
    assert report.recall >= 0.97
    assert report.verified_nhs_conflicts == 0
    assert report.families_recovered >= 0.8
    assert report.families_pure == 1.0
