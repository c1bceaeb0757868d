"""Replay order of a generated county: time-ordered deliveries, one record per chunk where a
connector can cut the file, and nothing left out."""

from __future__ import annotations

import pytest

from connectors import registry
from services.synthetic.replay import deliveries
from tests.unit.synthetic.conftest import County


def test_deliveries_are_time_ordered_and_cover_every_file(county: County) -> None:
    chunks = list(deliveries(county.root))
    times = [c.occurred_at for c in chunks]
    assert times == sorted(times)
    assert {c.path for c in chunks} == {f["path"] for f in county.manifest["files"]}
    assert len(chunks) >= len(county.manifest["files"])


def test_files_are_cut_into_single_records_when_a_connector_can(county: County) -> None:
    if "hv-csv" not in registry.formats():
        pytest.skip("no hv-csv connector registered yet")
    rows = [c for c in deliveries(county.root) if c.fmt == "hv-csv"]
    assert rows
    assert all(c.data.count(b"\r\n") == 2 for c in rows)  # header line and one row
    assert len(rows) == sum(f["records"] for f in county.manifest["files"] if f["format"] == "hv-csv")


def test_partners_sending_at_the_same_moment_are_interleaved(county: County) -> None:
    chunks = list(deliveries(county.root))
    by_moment: dict[object, list[str]] = {}
    for chunk in chunks:
        by_moment.setdefault(chunk.occurred_at, []).append(chunk.path)
    mixed = [paths for paths in by_moment.values() if len(set(paths)) > 1]
    assert mixed, "some partner sends several files at once"
    for paths in mixed:
        first_of_each = [paths.index(p) for p in dict.fromkeys(paths)]
        assert first_of_each == list(range(len(first_of_each)))  # round robin starts with every file
