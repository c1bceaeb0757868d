"""Fuzz inputs per connector: its sample files under samples/<format>/, mutated one to three times.

The family of mutations is chosen from what a seed looks like (XML, JSON, HL7 v2 or CSV), so a
format added to the registry is fuzzed with the right structural mutations without editing this
file. Byte-level and line-level mutations apply to every family.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from tests.fuzz.text_mutations import BOM, CSV, GENERIC, HL7, Mutation
from tests.fuzz.tree_mutations import JSON, XML

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
FAMILIES: dict[str, tuple[Mutation, ...]] = {"xml": XML, "json": JSON, "hl7": HL7, "csv": CSV}


def seeds(fmt: str) -> list[bytes]:
    """Every sample file of a format, valid and deliberately invalid alike (sorted, so the
    derandomised CI run draws the same cases every time)."""
    return [path.read_bytes() for path in sorted((SAMPLES / fmt).glob("*")) if path.is_file()]


def family_of(data: bytes) -> str:
    head = data.removeprefix(BOM).lstrip()[:3]
    if head.startswith(b"<"):
        return "xml"
    if head[:1] in (b"{", b"["):
        return "json"
    if head in (b"MSH", b"FHS", b"BHS"):
        return "hl7"
    return "csv"


@st.composite
def mutated(draw: st.DrawFn, samples: list[bytes]) -> bytes:
    """A sample with one to three mutations; structural ones are twice as likely as byte ones."""
    data = draw(st.sampled_from(samples))
    structural = FAMILIES[family_of(data)]
    for _ in range(draw(st.integers(1, 3))):
        mutation = draw(st.sampled_from(structural + structural + GENERIC))
        data = mutation(draw, data)
    return data
