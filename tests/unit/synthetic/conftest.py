"""One small synthetic county per test session, shared by the synthetic tests (it takes ~1 s)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.synthetic.county import Options, generate
from services.synthetic.mess import MessRates

FAMILIES = 30
SEED = 20170401
# The default window runs to 2027-03-31 (the issue's); connectors rightly reject records dated in
# the future, so the test county ends in the past and every record it holds has happened.
END = date(2025, 3, 31)


class County:
    """A generated county folder and its manifest, ground truth and people, read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest: dict[str, Any] = orjson.loads((root / "manifest.json").read_bytes())
        with (root / "ground_truth.csv").open(newline="", encoding="utf-8") as handle:
            self.truth = list(csv.DictReader(handle))
        with (root / "people.csv").open(newline="", encoding="utf-8") as handle:
            self.people = list(csv.DictReader(handle))

    def files(self) -> list[Path]:
        return sorted(p for p in (self.root / "feeds").rglob("*") if p.is_file())


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    root = tmp_path_factory.mktemp("county") / "out"
    generate(Options(families=FAMILIES, seed=SEED, end=END), root)
    return County(root)


@pytest.fixture(scope="session")
def messy_county(tmp_path_factory: pytest.TempPathFactory) -> County:
    """A county with ten times the usual delivery faults, so every format shows each kind."""
    root = tmp_path_factory.mktemp("messy") / "out"
    rates = MessRates(malformed=0.15, duplicate=0.04, corrected=0.04, late=0.1, retracted=0.04)
    generate(Options(families=FAMILIES, seed=SEED, end=END, rates=rates), root)
    return County(root)
