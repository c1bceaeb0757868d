"""The `ndjson` connector: FHIR bulk data files (newline-delimited JSON), one resource a line.

FHIR Bulk Data Access (the `$export` output format, `application/fhir+ndjson`): "Each file item
SHALL contain a single FHIR resource per line", JSON, UTF-8, lines ending in a newline. Each line
is its own record: mapped like a single resource of the `fhir` connector (the same subject,
identity, code and invariant rules), so one bad line is one rejection naming its line number
(`line 3: Patient.gender`) and never blocks the others. Blank lines (a final newline, CRLF
endings) are not records. A Bundle on a line is refused: bulk files hold resources, not Bundles.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import orjson

from connectors.base import Connector, Record, SourceContext
from connectors.common.problems import located, problems_error
from connectors.common.values import BOM
from connectors.fhir.mapping import map_fhir_record
from schemas.envelope import HubEvent
from schemas.errors import MappingError, Problem

_LINE_PREFIX = "line "
_JSON_LINE_ONE = "JSON line 1, "


class NdjsonConnector(Connector):
    """FHIR R4 NDJSON (bulk data) inbound: one hub event per line's resource.

    Delivery: pure and deterministic; a line resent (alone or in another file) gives the same event
    id, since its record id comes from the resource, never from the line number.
    """

    name: ClassVar[str] = "ndjson"
    title: ClassVar[str] = "FHIR bulk data NDJSON (one FHIR R4 resource per line)"
    media_types: ClassVar[tuple[str, ...]] = (
        "application/fhir+ndjson",
        "application/ndjson",
        "application/x-ndjson",
    )

    def split(self, data: bytes) -> Iterator[Record]:
        """One record per non-blank line, `ref` = `line N` (1-based, as editors count)."""
        for number, line in enumerate(data.removeprefix(BOM).split(b"\n"), start=1):
            text = line.rstrip(b"\r")
            if text.strip():
                yield Record(raw=text, ref=f"{_LINE_PREFIX}{number}")

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        where = record.ref or f"{_LINE_PREFIX}1"
        try:
            _one_resource(record.raw)
            return map_fhir_record(record, ctx)
        except MappingError as error:
            raise at_line(error, where) from None


def _one_resource(line: bytes) -> None:
    """A line holds one JSON object that is not a Bundle (FHIR Bulk Data output files). JSON that
    does not parse is left to the `fhir` reader, which names the column."""
    if not line.lstrip().startswith(b"{"):
        raise MappingError(
            "an NDJSON line must be one FHIR resource as a JSON object",
            location="resourceType",
            hint="send one JSON resource per line (no XML, no arrays, no pretty-printing across lines)",
        )
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return
    if isinstance(parsed, dict) and parsed.get("resourceType") == "Bundle":
        raise MappingError(
            "this line holds a Bundle; a bulk data file holds one resource per line",
            location="Bundle",
            hint="send the Bundle on its own with the fhir format, or its resources one per line",
        )


def at_line(error: MappingError, where: str) -> MappingError:
    """The same error placed on its line: location and every problem path gain `line N: `."""
    if error.problems:
        moved = [Problem(path=located(where, p.path), reason=p.reason) for p in error.problems]
        return problems_error(moved, hint=error.hint)
    location = error.location or ""
    if location.startswith(_JSON_LINE_ONE):  # the line's own JSON fault: `line 3, column 29`
        location = f"{where}, {location.removeprefix(_JSON_LINE_ONE)}"
    else:
        location = located(where, location) if location else where
    return type(error)(error.reason, location=location, hint=error.hint)
