"""Every partner file the generator writes parses with the matching connector, and exactly the
records the ground truth marks `reject` are rejected (matched by their source record id, which
each format keeps in the record's own bytes).

Runs for every format in `connectors.registry.formats()` that the generator writes; a separate
test states that every written format has a connector (it fails while connectors are missing).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from connectors import registry
from connectors.base import Rejection, SourceContext
from services.synthetic.feeds import FORMATS
from tests.unit.synthetic.conftest import County


@pytest.mark.parametrize("fmt", FORMATS)
def test_generated_files_convert_and_only_malformed_records_are_rejected(
    messy_county: County, fmt: str
) -> None:
    if fmt not in registry.formats():
        pytest.skip(f"no connector registered for {fmt} yet")
    connector = registry.get(fmt)
    rows = defaultdict(list)
    for row in messy_county.truth:
        if row["format"] == fmt:
            rows[row["file"]].append(row)
    assert any(r["expected"] == "reject" for file_rows in rows.values() for r in file_rows), (
        f"no {fmt} rejects"
    )
    problems: list[str] = []
    for path, expected in sorted(rows.items()):
        data = (messy_county.root / path).read_bytes()
        outcomes = list(
            connector.convert(data, SourceContext(partner=expected[0]["partner"], source_name=path))
        )
        rejections = [o for o in outcomes if isinstance(o, Rejection)]
        to_reject = [r["source_record_id"] for r in expected if r["expected"] == "reject"]
        events = [o for o in outcomes if not isinstance(o, Rejection)]
        if len(rejections) != len(to_reject):
            reasons = "; ".join(f"{r.record_ref}: {r.reason}" for r in rejections[:3])
            problems.append(f"{path}: {len(rejections)} rejected, {len(to_reject)} expected ({reasons})")
            continue
        for record_id in to_reject:
            if not any(record_id.encode() in r.original for r in rejections):
                problems.append(f"{path}: {record_id} was meant to be rejected but was not")
        if len(to_reject) < len(expected) and not events:
            problems.append(f"{path}: no events from {len(expected) - len(to_reject)} good records")
        for rejection in rejections:
            assert rejection.reason
    assert not problems, f"{len(problems)} file(s) disagree with the ground truth:\n" + "\n".join(
        problems[:15]
    )


def test_every_generated_format_has_a_registered_connector() -> None:
    missing = sorted(set(FORMATS) - set(registry.formats()))
    assert not missing, f"the generator writes formats no connector reads yet: {missing}"
