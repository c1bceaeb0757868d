"""Postcode -> district: a small outward-code table for the synthetic county, or the ONS Postcode
Directory (ONSPD) CSV for real use.

Routing needs only the district (home hub first) and whether the family lives in a priority place,
so the referral store keeps a person's outward code, never the full postcode. Full postcodes from
ONSPD are looked up first; otherwise the outward code decides, which is exact for the synthetic
county (each outward code lies in one district there) and a fair guess elsewhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.synthetic.geography import DISTRICTS

_POSTCODE_COLUMNS = ("pcds", "pcd", "pcd2", "pcd7", "pcd8", "postcode")
_DISTRICT_COLUMN = re.compile(r"^(oslaua|lad\d{2}cd|ladcd|lad_code)$", re.IGNORECASE)
_TERMINATED_COLUMN = "doterm"
_INWARD = 3  # characters of the inward code ("1AB"); the shortest full postcode has five


def normalise(postcode: str) -> str:
    """Upper case, one space before the inward code ("co151ab" -> "CO15 1AB")."""
    compact = re.sub(r"\s+", "", postcode).upper()
    return f"{compact[:-_INWARD]} {compact[-_INWARD:]}" if len(compact) > _INWARD else compact


def outward(postcode: str) -> str:
    """The outward code ("CO15" of "CO15 1AB"); a bare outward code is returned as it is."""
    compact = re.sub(r"\s+", "", postcode).upper()
    return compact[:-_INWARD] if len(compact) > _INWARD + 1 else compact


@dataclass(frozen=True)
class PostcodeLookup:
    """District codes (ONS GSS, e.g. E07000076) by full postcode and by outward code."""

    by_outcode: Mapping[str, str]
    by_postcode: Mapping[str, str] = field(default_factory=dict)
    priority_outcodes: frozenset[str] = frozenset()

    def district(self, postcode: str | None) -> str | None:
        if not postcode or not postcode.strip():
            return None
        return self.by_postcode.get(normalise(postcode)) or self.by_outcode.get(outward(postcode))

    def in_priority_place(self, postcode: str | None) -> bool:
        return bool(postcode) and outward(postcode or "") in self.priority_outcodes

    def with_onspd(self, rows: Iterable[Mapping[str, str]]) -> PostcodeLookup:
        """This lookup plus the live postcodes of ONSPD rows (terminated postcodes are left out)."""
        found = dict(self.by_postcode)
        for row in rows:
            code = _district_of(row)
            postcode = next((row[c] for c in _POSTCODE_COLUMNS if row.get(c)), "")
            if code and postcode and not (row.get(_TERMINATED_COLUMN) or "").strip():
                found[normalise(postcode)] = code
        return PostcodeLookup(self.by_outcode, found, self.priority_outcodes)


def synthetic_county() -> PostcodeLookup:
    """The synthetic Essex table (services/synthetic/geography.py), with its priority places."""
    return PostcodeLookup(
        by_outcode={outcode: d.code for d in DISTRICTS for outcode in d.outcodes},
        priority_outcodes=frozenset(
            outcode for d in DISTRICTS for place in d.places if place.priority for outcode in place.outcodes
        ),
    )


def read_onspd(data: bytes) -> list[dict[str, str]]:
    """Rows of an ONSPD CSV file (any release: column names are matched, not positions).

    Raises `ValueError` naming what is missing when the file has no postcode or district column."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if not any(c in columns for c in _POSTCODE_COLUMNS):
        raise ValueError(f"no postcode column: expected one of {', '.join(_POSTCODE_COLUMNS)}")
    if not any(_DISTRICT_COLUMN.match(c) for c in columns):
        raise ValueError("no local authority district column: expected oslaua or ladNNcd")
    return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]


def _district_of(row: Mapping[str, str]) -> str:
    return next((value for key, value in row.items() if _DISTRICT_COLUMN.match(key) and value), "")
