"""Read FHIR bytes in either wire format (JSON or XML) into the JSON form, a plain dict.

Partners send FHIR as JSON or XML, sometimes with a UTF-8 byte order mark; the first character
that is not white space decides (`{` JSON, `<` XML), as the FHIR specification's format rules allow
no other start. Both formats end up as the same dict, so splitting, validation and mapping have
one code path.
"""

from __future__ import annotations

from typing import Any, Literal

from connectors.common.fhir_xml import Release, parse_xml
from connectors.common.values import BOM, parse_json
from schemas.errors import MappingError

WireFormat = Literal["json", "xml"]


def wire_format(data: bytes) -> WireFormat:
    """`json` or `xml` by the first non-space byte; raises `MappingError` for anything else."""
    start = data.removeprefix(BOM).lstrip()[:1]
    if start == b"{":
        return "json"
    if start == b"<":
        return "xml"
    raise MappingError(
        "the input is neither FHIR JSON (starts with '{') nor FHIR XML (starts with '<')"
        if start
        else "the input is empty",
        location="byte 1",
        hint="send one FHIR resource or Bundle as JSON or XML, UTF-8 encoded",
    )


def read_fhir(data: bytes, release: Release = "R4B") -> dict[str, Any]:
    """The input as a FHIR JSON dict with a `resourceType`; raises `MappingError` if unreadable."""
    body = data.removeprefix(BOM)
    if wire_format(body) == "xml":
        return parse_xml(body, release)
    parsed = parse_json(body, "the JSON is not well formed", hint="check the file is complete and valid JSON")
    if not isinstance(parsed, dict) or not isinstance(parsed.get("resourceType"), str):
        raise MappingError(
            "the JSON is not a FHIR resource (no resourceType)",
            location="resourceType",
            hint="send a FHIR resource or Bundle with its resourceType element",
        )
    return parsed
