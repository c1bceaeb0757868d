"""Which sender an input claims to come from, for the formats that name one.

The gateway stamps the authenticated partner on every event; this check adds the other half: a
message that names a different sending organisation is refused (403) and audited, so a partner
can never publish as another. Checked, per format family (other formats carry no sender):

| format | claimed sender |
|---|---|
| hl7v2 | MSH-4 sending facility, first component, of every message the connector's splitter cuts |
| fhir, nems (JSON or XML) | MessageHeader.sender identifier, and ODS code of the Organization it names |
| nems | also the ODS code of MessageHeader.source.endpoint (`urn:nhs-uk:addressing:ods:<code>`) |
| ctf | Header/SourceSchool URN, and LEA + Estab (the DfE number) |
| cin-census | Header/Source/LEA (the DfE local authority code the events are stamped with) |
| vcs-json, vcs-csv | `organisation` of every activity |
| bloodspot-csv | `laboratory_ods_code` of every card (the screening laboratory sends its own results) |

Extraction reads the input as the connector does (the HL7 check once split messages its own way,
and a leading MLLP start byte or BOM before a later message hid that message's MSH-4). Unreadable
input claims nothing here, and the connector rejects it (malformed input that the parsers signal
otherwise, deep nesting or a huge integer, is unreadable too: `connectors.malformed`; it must not
surface as a hubnet fault). Formats that name a sender in every record are read record by record,
no further than the caps on one input (`claimed_senders(limits=)`). A FHIR sender given by reference must
resolve, within the message, to an Organization with an ODS code; otherwise the claim cannot be
checked and the input is refused (`UnverifiableSenderError`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from connectors.base import Record
from connectors.common.csv_records import read_row, split_csv
from connectors.common.fhir_input import read_fhir
from connectors.common.fhir_xml import Release
from connectors.common.xml_elements import parse_xml
from connectors.hl7v2.batch import split_messages
from connectors.hl7v2.parsing import parse_header
from connectors.input_limits import InputLimits
from connectors.malformed import malformed_input
from connectors.nems.header import ODS_ENDPOINT
from connectors.vcs.json_body import JsonFields, split_json
from schemas.errors import AuthorisationError, MappingError
from schemas.identifiers import ODS_ORGANISATION

Extractor = Callable[[bytes], Iterator[str]]


class UnverifiableSenderError(AuthorisationError):
    """The input names its sender in a way that cannot be checked against the registration."""


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
    entries = body.get("entry") if isinstance(body, dict) else None
    for resource in resources:
        if isinstance(resource, dict) and resource.get("resourceType") == "MessageHeader":
            sender = resource.get("sender")
            if not isinstance(sender, dict):
                continue
            value = _get(sender, "identifier", "value")
            if isinstance(value, str) and value:
                yield value
            reference = _get(sender, "reference")
            if isinstance(reference, str) and reference:
                yield from _ods_codes(_resolve(reference, entries, resource), reference)


def _get(node: Any, *path: str) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _resolve(reference: str, entries: Any, header: dict[str, Any]) -> Any:
    """The resource a reference names inside the message: by `fullUrl`, `Type/id`, or `#id`
    (contained in the header); None when the message does not hold it."""
    if reference.startswith("#"):
        contained = header.get("contained")
        found = [r for r in contained or () if isinstance(r, dict) and r.get("id") == reference[1:]]
        return found[0] if found else None
    for entry in entries if isinstance(entries, list) else ():
        resource = _get(entry, "resource")
        if not isinstance(resource, dict):
            continue
        if _get(entry, "fullUrl") == reference or (
            reference.count("/") == 1 and f"{resource.get('resourceType')}/{resource.get('id')}" == reference
        ):
            return resource
    return None


def _ods_codes(resource: Any, reference: str) -> Iterator[str]:
    """The ODS codes of the referenced sender, or refuse: an unchecked claim is never let through."""
    where = f"MessageHeader.sender.reference '{reference[:80]}'"
    if not isinstance(resource, dict) or resource.get("resourceType") != "Organization":
        raise UnverifiableSenderError(
            f"{where} does not name an Organization in this message, so the sender cannot be checked: "
            "include the Organization in the Bundle, or give sender.identifier with your ODS code"
        )
    identifiers = resource.get("identifier")
    codes = [
        i["value"] for i in identifiers if isinstance(identifiers, list) and isinstance(i, dict)
        and i.get("system") == ODS_ORGANISATION and isinstance(i.get("value"), str) and i["value"]
    ] if isinstance(identifiers, list) else []  # fmt: skip
    if not codes:
        raise UnverifiableSenderError(
            f"{where} names an Organization without an ODS code ({ODS_ORGANISATION}), so the sender "
            "cannot be checked: give the Organization its ODS identifier"
        )
    yield from codes


def _nems_senders(data: bytes) -> Iterator[str]:
    """A NEMS message names its publishing organisation twice: as sender and as the ODS address of
    its source endpoint, whose records it changes (connectors/nems/header.py)."""
    yield from _fhir_message_sender(data, "STU3")
    try:
        body = read_fhir(data, "STU3")
    except MappingError:
        return
    entries = body.get("entry") if isinstance(body, dict) else None
    first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
    header = first.get("resource") if isinstance(first, dict) else None
    source = header.get("source") if isinstance(header, dict) else None
    endpoint = source.get("endpoint") if isinstance(source, dict) else None
    if isinstance(endpoint, str) and endpoint.startswith(ODS_ENDPOINT) and endpoint[len(ODS_ENDPOINT) :]:
        yield endpoint[len(ODS_ENDPOINT) :]


def _ctf_source_school(data: bytes) -> Iterator[str]:
    header = parse_xml(data, root="CTfile").require("Header").require("SourceSchool")
    urn, la, estab = header.text("URN"), header.text("LEA"), header.text("Estab")
    if urn:
        yield urn
    if la and estab:
        yield la + estab


def _cin_source_authority(data: bytes) -> Iterator[str]:
    """The census header's LA code: the connector names the authority on every event by it, so
    one authority cannot label its returns as another's."""
    source = parse_xml(data, root="Message").require("Header").find("Source")
    code = source.text("LEA") if source else None
    if code:
        yield code


def _each_record(records: Iterator[Record], read: Callable[[Record], str | None]) -> Iterator[str]:
    """A record that cannot be read claims nothing, and does not hide the claims of the others."""
    for record in records:
        try:
            value = read(record)
        except Exception as error:
            if malformed_input(error) is None:
                raise
            continue
        if value:
            yield value


RecordReader = Callable[[Record], str | None]
RECORD_CLAIMS: dict[str, tuple[Callable[[bytes], Iterator[Record]], RecordReader]] = {
    # hl7v2: MSH-4 of each message exactly as the connector cuts and reads them
    "hl7v2": (split_messages, lambda record: parse_header(record.raw).text(4)),
    "vcs-json": (split_json, lambda record: JsonFields(record).get("organisation")),
    "vcs-csv": (split_csv, lambda record: read_row(record).get("organisation")),
    # bloodspot-csv: upper case, as the connector reads the code
    "bloodspot-csv": (
        split_csv,
        lambda record: (read_row(record).get("laboratory_ods_code") or "").upper() or None,
    ),
}
"""Formats that name a sender in every record: read one record at a time."""


def _record_claims(fmt: str, data: bytes, limits: InputLimits | None = None) -> Iterator[str]:
    split, read = RECORD_CLAIMS[fmt]
    return _each_record(limits.within(split(data)) if limits else split(data), read)


EXTRACTORS: dict[str, Extractor] = {
    "fhir": _fhir_message_sender,
    "nems": _nems_senders,
    "ctf": _ctf_source_school,
    "cin-census": _cin_source_authority,
    **{fmt: partial(_record_claims, fmt) for fmt in RECORD_CLAIMS},
}


def claimed_senders(fmt: str, data: bytes, limits: InputLimits | None = None) -> set[str]:
    """Every sender identifier the input names; empty for formats without one or unreadable input.
    With `limits`, records past a cap are not read (the connector refuses such an input anyway): a
    CSV row carries its header line, and reading each row of a long file took minutes."""
    extractor = EXTRACTORS.get(fmt)
    if extractor is None:
        return set()
    found: set[str] = set()
    try:
        found.update(_record_claims(fmt, data, limits) if fmt in RECORD_CLAIMS else extractor(data))
    except Exception as error:
        if malformed_input(error) is None:
            raise
    return found
