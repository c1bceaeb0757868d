"""Feed a generated county back as live traffic: deliveries in the order partners would send them.

`hubnet replay DIR --rate 500/s` (the lead's command) iterates `deliveries(DIR)` and hands each
chunk to the matching connector at the asked rate. Files are taken in order of their `sent_at`
(manifest.json); files a partner set sends at the same moment are interleaved record by record,
so one partner's large extract does not hold up the others. A chunk is one record, cut by the
format's own connector (`Connector.split`, whose records are convertible on their own), or the
whole file when no connector for the format is registered yet or the file cannot be split (a
deliberately broken file then reaches the connector whole, and is dead-lettered there).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby, zip_longest
from pathlib import Path
from typing import Any

import orjson

from connectors import registry
from schemas.errors import MappingError


def partner_code(org_id: str) -> str:
    """The partner code a county partner is registered under: its organisation id (ODS code, URN,
    LA code, charity number) in the registry's lower-case spelling."""
    return org_id.strip().lower()


@dataclass(frozen=True)
class Delivery:
    """One chunk of partner traffic: `data` is one record, or a small batch, of `fmt`, sent by
    the partner registered as `partner` (see `partner_code`)."""

    partner: str
    fmt: str
    data: bytes
    occurred_at: datetime
    path: str


def _chunks(fmt: str, data: bytes) -> list[bytes]:
    if fmt not in registry.formats():
        return [data]
    try:
        return [record.raw for record in registry.get(fmt).split(data)] or [data]
    except MappingError:
        return [data]


def _file(root: Path, entry: dict[str, Any]) -> Iterator[Delivery]:
    sent = datetime.fromisoformat(entry["sent_at"])
    for chunk in _chunks(entry["format"], (root / entry["path"]).read_bytes()):
        yield Delivery(partner_code(entry["partner"]), entry["format"], chunk, sent, entry["path"])


def deliveries(root: Path) -> Iterator[Delivery]:
    """Every record of the county at `root`, time-ordered by delivery, interleaved across files."""
    manifest = orjson.loads((root / "manifest.json").read_bytes())
    files = sorted(manifest["files"], key=lambda f: (f["sent_at"], f["path"]))
    for _sent, batch in groupby(files, key=lambda f: f["sent_at"]):
        streams = [_file(root, entry) for entry in batch]
        for row in zip_longest(*streams):
            yield from (delivery for delivery in row if delivery is not None)
