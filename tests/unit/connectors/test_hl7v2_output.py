"""The hl7v2 connector's output, pinned byte for byte: every Bundle, Kafka key and header, and
every rejection, for each public HL7 v2 sample and each of hubnet's own samples.

Why: the mapping and parsing are tuned for speed (issue #4); a digest per input shows that no
shortcut changed a single output byte. After an intended mapping change, regenerate the digests
(from the repository root, writing the file beside this module):
    .venv/bin/python -m tests.unit.connectors.test_hl7v2_output > <this folder>/hl7v2_output_digests.json
and review the mapping change itself in its own tests.

Public samples: tests/data/public/hl7v2-samples/, from microsoft/FHIR-Converter
`data/SampleData/Hl7v2/` @ 70fd328 (MIT).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from connectors.base import SourceContext
from connectors.hl7v2.connector import Hl7v2Connector
from schemas.envelope import HubEvent
from tests.public_data import public_sample

REPO = Path(__file__).resolve().parents[3]
PUBLIC = public_sample("hl7v2-samples")
DIGESTS = Path(__file__).with_name("hl7v2_output_digests.json")
CTX = SourceContext(partner="essex-nhs", trace_id="0" * 32, received_at=datetime(2025, 6, 1, 12, tzinfo=UTC))


def inputs() -> dict[str, Path]:
    found = {f"samples/{p.name}": p for p in sorted((REPO / "samples" / "hl7v2").glob("*.hl7"))}
    found |= {f"public/{p.name}": p for p in sorted(PUBLIC.glob("*.hl7"))}
    return found


def digest(path: Path) -> str:
    """sha256 of everything the connector makes of one input, in a canonical JSON form."""
    out = []
    for outcome in Hl7v2Connector().convert(path.read_bytes(), CTX):
        if isinstance(outcome, HubEvent):
            out.append(
                {
                    "bundle": outcome.to_bundle(),
                    "key": outcome.key.decode(),
                    "headers": [(k, v.decode()) for k, v in outcome.headers()],
                }
            )
        else:
            out.append({"reason": outcome.reason, "location": outcome.location, "ref": outcome.record_ref})
    return hashlib.sha256(orjson.dumps(out, option=orjson.OPT_SORT_KEYS)).hexdigest()


@pytest.mark.parametrize("name", sorted(inputs()))
def test_output_is_unchanged(name: str) -> None:
    expected = orjson.loads(DIGESTS.read_bytes())
    assert name in expected, f"{name} has no pinned digest: regenerate (see the module docstring)"
    assert digest(inputs()[name]) == expected[name]


if __name__ == "__main__":
    print(
        orjson.dumps(
            {name: digest(path) for name, path in inputs().items()}, option=orjson.OPT_INDENT_2
        ).decode()
    )
