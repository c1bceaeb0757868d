"""`cin-census`: the DfE Children in Need census XML (Message/Header/Children/Child) to hub events.

A record is one CINdetails (one referral episode) of one child: its `raw` is a stand-alone Message
with the Header, the child's identifiers and characteristics and that CINdetails, so a rejected
episode is replayed alone and never blocks the child's other episodes or other children. Its
`ref` is the element path in the original file, which prefixes every error location.

The census is a snapshot: every fact arrives with its start and end dates, so each referral,
assessment, plan, enquiry and closure is one event whose resource carries the whole period. The
record version is the time the file was produced (`Header/Source/DateTime`), so next year's
census supersedes this one record by record. The source local authority (`Header/Source/LEA`, the
DfE LA code) names the authority on every event: the Patient's managing organisation and each
reference to the authority. The mapping table is in docs/connectors/cin-census.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import cast
from xml.etree.ElementTree import Element

from connectors.base import Record, SourceContext
from connectors.common.fhir_time import utc_stamp
from connectors.common.problems import Findings
from connectors.common.xml_elements import XmlNode, parse_xml, to_document
from connectors.social_care.cin_details import map_details
from connectors.social_care.events import ChildEvents
from connectors.social_care.identity import Child, make_child
from connectors.social_care.timing import at_midnight, check_not_future, check_order
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from schemas.identifiers import local_system

ROOT = "Message"
GENDERS = {
    "0": "unknown",
    "1": "male",
    "2": "female",
    "9": "unknown",
    "M": "male",
    "F": "female",
    "U": "unknown",
}
_LA_CODE = re.compile(r"^\d{3}$")
_REF = re.compile(r"^(Message\.Children\.Child\[\d+\])(\.CINdetails\[\d+\])?$")


def source_system(partner: str) -> str:
    """The record-id namespace of one authority's CIN census returns."""
    return local_system(partner, "cin-census")


def split_census(data: bytes) -> Iterator[Record]:
    """One record per CINdetails (a child without any is one record, rejected when mapped)."""
    root = parse_xml(data, root=ROOT)
    header = root.require("Header").element
    for child in root.require("Children").children("Child"):
        details: list[XmlNode | None] = [*child.children("CINdetails")] or [None]
        for one in details:
            yield Record(
                raw=to_document(_message(header, child.element, one.element if one else None)),
                ref=one.path if one else child.path,
            )


def _message(header: Element, child: Element, details: Element | None) -> Element:
    """A Message holding the header and one child with only the given CINdetails."""
    message = Element(ROOT)
    message.append(header)
    single = Element("Child")
    single.extend(part for part in child if part.tag != "CINdetails")
    if details is not None:
        single.append(details)
    holder = Element("Children")
    holder.append(single)
    message.append(holder)
    return message


def map_census_record(record: Record, ctx: SourceContext) -> list[HubEvent]:
    """Hub events of one CINdetails, or `MappingError` naming the element path of every problem: the
    header, the child and each part of the episode are read whole before any event is made."""
    root = parse_xml(record.raw, root=ROOT)
    header = root.require("Header")
    child_node, details = _located(root, record.ref)
    found = Findings()
    version = found.take(_version, header)
    authority = found.take(_authority, header)
    received = ctx.received_at.date()
    child = _child(child_node.require("ChildIdentifiers"), ctx.partner, received, authority, found)
    if version is None or child is None:
        found.check()  # no event can be named without the version and the child's id
    events = ChildEvents.start(ctx, source_system(ctx.partner), str(version), cast(Child, child))
    made = map_details(events, details, received, found)
    found.check()
    return made


def _version(header: XmlNode) -> str:
    """When the file was produced (fixed-width UTC), else its reference date."""
    source = header.find("Source")
    produced = source.text("DateTime") if source else None
    if source and produced:
        try:
            moment = datetime.fromisoformat(produced.replace("Z", "+00:00"))
        except ValueError:
            raise MappingError(
                "the value is not a date-time", source.at("DateTime"), hint="write it as YYYY-MM-DDThh:mm:ss"
            ) from None
        return utc_stamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    details = header.require("CollectionDetails")
    return utc_stamp(at_midnight(details.require_date("ReferenceDate")))


def _authority(header: XmlNode) -> str | None:
    """The source local authority: `Header/Source/LEA`, the DfE's three-digit LA code."""
    source = header.find("Source")
    code = source.text("LEA") if source else None
    if source and code is not None and not _LA_CODE.match(code):
        raise MappingError(
            "the LA code is not the DfE's three-digit local authority number",
            source.at("LEA"),
            hint="write the authority's DfE LA code, e.g. 881 for Essex",
        )
    return code


def _located(root: XmlNode, ref: str | None) -> tuple[XmlNode, XmlNode]:
    """The child and its CINdetails, with paths from the original file when `ref` names them."""
    children = root.require("Children").children("Child")
    if len(children) != 1:
        raise MappingError(
            f"expected one Child in the record, found {len(children)}",
            root.at("Children"),
            hint="send the whole file to split it into records",
        )
    found = _REF.match(ref or "")
    child = XmlNode(children[0].element, found.group(1)) if found else children[0]
    details = child.children("CINdetails")
    if len(details) != 1:
        raise MappingError(
            "the child has no CINdetails" if not details else "the record holds more than one CINdetails",
            child.at("CINdetails"),
            hint="every child in the census has at least one CINdetails (referral episode)",
        )
    if found and found.group(2):
        return child, XmlNode(details[0].element, found.group(0))
    return child, details[0]


def _child(
    ids: XmlNode, partner: str, received: date, authority: str | None, found: Findings
) -> Child | None:
    """The child's identity (None without its LAchildID); the expected birth date of an unborn child
    is not a birth date. Each problem is noted in `found`, the element left out."""
    born = found.take(ids.as_date, "PersonBirthDate")
    died = found.take(ids.as_date, "PersonDeathDate")
    found.take(check_not_future, born, received, ids.at("PersonBirthDate"))
    found.take(check_not_future, died, received, ids.at("PersonDeathDate"))
    found.take(check_order, born, died, ids.at("PersonDeathDate"))
    sex = ids.text("GenderCurrent") or ids.text("Sex")
    if sex is not None and sex.upper() not in GENDERS:
        found.note(
            MappingError(
                "the value is not one of the codes the specification allows",
                ids.at("GenderCurrent" if ids.find("GenderCurrent") else "Sex"),
                hint=f"use one of: {', '.join(GENDERS)}",
            )
        )
    local_id = found.take(ids.require_text, "LAchildID")
    if local_id is None:
        return None
    return make_child(
        partner,
        local_id,
        source="cin-census",
        upn=ids.text("UPN"),
        birth_date=born,
        gender=GENDERS.get(sex.upper()) if sex else None,
        death_date=died,
        authority=authority,
    )
