"""The county packs the county-dependent tests run over: nothing may hold for one county only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PACKS_DIR = Path(__file__).resolve().parents[2] / "data" / "county"
PACKS = ("essex", "london")
"""Essex: three districts, hub areas by district with a ward carved out, delivery sites.
London: one borough, hub areas by ward, no delivery sites."""


def each_pack() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("pack_dir", [PACKS_DIR / name for name in PACKS], ids=PACKS)


def copy_pack(name: str, into: Path) -> Path:
    """A writable copy of a test pack, for tests that break it on purpose."""
    target = into / name
    shutil.copytree(PACKS_DIR / name, target)
    return target
