"""Which sender an input claims to come from, for the formats that name one.

The gateway stamps the authenticated partner on every event; this check adds the other half: a
message that names a different sending organisation is refused (403) and audited, so a partner
can never publish as another. Checked, per format family (other formats carry no sender):

| format | claimed sender |
|---|---|
| hl7v2 | MSH-4 sending facility, first component |
| fhir, nems (JSON or XML) | MessageHeader.sender.identifier.value |
| ctf | Header/SourceSchool URN, and LEA + Estab (the DfE number) |
| vcs-json, vcs-csv | `organisation` of every activity |

Extraction is best-effort: unreadable input claims nothing here, and the connector rejects it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from connectors.base import Record
from connectors.common.csv_records import read_row, split_csv
from connectors.common.fhir_input import read_fhir
from connectors.common.fhir_xml import Release
from connectors.common.xml_elements import parse_xml
from connectors.vcs.json_body import JsonFields, split_json
from schemas.errors import MappingError

Extractor = Callable[[bytes], Iterator[str]]


def _hl7_sending_facility(data: bytes) -> Iterator[str]:
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    for segment in text.replace("\r\n", "\r").replace("\n", "\r").split("\r"):
        if segment.startswith("MSH") and len(segment) > 8:
            separator, component = segment[3], segment[4]
            fields = segment.split(separator)
            if len(fields) > 3 and fields[3]:
                yield fields[3].split(component)[0]


def _fhir_message_sender(data: bytes, release: Release = "R4B") -> Iterator[str]:
    """JSON or XML alike, as the connectors read them: a check on JSON only was bypassed by
    sending the same message as XML."""
    try:
        body = read_fhir(data, release)
    except MappingError:
        return
    resources: list[Any] = [body]
    if isinstance(body, dict) and isinstance(body.get("entry"), list):
        resources += [e.get("resource") for e in body["entry"] if isinstance(e, dict)]
    for resource in resources:
        if isinstance(resource, dict) and resource.get("resourceType") == "MessageHeader":
            sender = resource.get("sender")
            identifier = sender.get("identifier") if isinstance(sender, dict) else None
            value = identifier.get("value") if isinstance(identifier, dict) else None
            if isinstance(value, str) and value:
                yield value


def _ctf_source_school(data: bytes) -> Iterator[str]:
    header = parse_xml(data, root="CTfile").require("Header").require("SourceSchool")
    urn, la, estab = header.text("URN"), header.text("LEA"), header.text("Estab")
    if urn:
        yield urn
    if la and estab:
        yield la + estab


def _each_record(records: Iterator[Record], read: Callable[[Record], str | None]) -> Iterator[str]:
    """A record that cannot be read claims nothing, and does not hide the claims of the others."""
    for record in records:
        try:
            value = read(record)
        except MappingError:
            continue
        if value:
            yield value


def _vcs_json_organisation(data: bytes) -> Iterator[str]:
    return _each_record(split_json(data), lambda record: JsonFields(record).get("organisation"))


def _vcs_csv_organisation(data: bytes) -> Iterator[str]:
    return _each_record(split_csv(data), lambda record: read_row(record).get("organisation"))


EXTRACTORS: dict[str, Extractor] = {
    "hl7v2": _hl7_sending_facility,
    "fhir": _fhir_message_sender,
    "nems": lambda data: _fhir_message_sender(data, "STU3"),
    "ctf": _ctf_source_school,
    "vcs-json": _vcs_json_organisation,
    "vcs-csv": _vcs_csv_organisation,
}


def claimed_senders(fmt: str, data: bytes) -> set[str]:
    """Every sender identifier the input names; empty for formats without one or unreadable input."""
    extractor = EXTRACTORS.get(fmt)
    if extractor is None:
        return set()
    found: set[str] = set()
    try:
        found.update(extractor(data))
    except MappingError:
        return found
    return found
