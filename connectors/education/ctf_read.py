"""Read a DfE Common Transfer File (CTF) into typed facts, checking what the hub relies on.

Layout (CTF 2x, no namespace): `CTfile/Header` (DateTime, SourceSchool: LEA, Estab, URN,
SchoolName) and `CTfile/CTFpupilData/Pupil`, one per pupil. Elements are found by name, so their
order does not matter and optional ones may be absent. Strict on what the hub needs: UPN with a
valid check letter, surname, forename, DOB; codes from the DfE lists; dates in a possible order.
Every error names the element path in the partner's file, zero-based: `CTfile.CTFpupilData.Pupil[1].DOB`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import cast
from xml.etree.ElementTree import Element, SubElement
from zoneinfo import ZoneInfo

from connectors.common.demographics import checked_birth_date, normal_postcode
from connectors.common.problems import Findings
from connectors.common.xml_elements import XmlNode, parse_xml, to_document
from connectors.education.absence import Attendance, checked_attendance
from connectors.education.codes import (
    EXCLUSION_CATEGORIES,
    EXCLUSION_REASONS,
    GENDERS,
    SEN_PROVISION,
    SEN_TYPES,
)
from connectors.education.pupil import Pupil, School, check_order, checked_upn
from schemas.errors import MappingError

ROOT = "CTfile"
PUPILS = "CTFpupilData"
PUPIL_PATH = re.compile(rf"^{ROOT}\.{PUPILS}\.Pupil\[\d+\]$")
UK_TIME = ZoneInfo("Europe/London")
BS7666_LINES = ("SAON", "PAON", "Street", "Locality", "Town", "AdministrativeArea", "PostTown")
ADDRESS_LINES = tuple(f"AddressLine{n}" for n in range(1, 6))


@dataclass(frozen=True)
class CtfHeader:
    """When the file was made (UTC) and which school sent it."""

    created: datetime
    source: School

    @property
    def version(self) -> str:
        """Record version of every event from this file: a later export is a later version."""
        return self.created.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Enrolment:
    school: School
    entry: date
    leaving: date | None


@dataclass(frozen=True)
class SenNeed:
    code: str
    rank: int | None


@dataclass(frozen=True)
class SenPeriod:
    start: date
    end: date | None
    provision: str
    needs: tuple[SenNeed, ...]

    @property
    def restricted(self) -> bool:
        return any(SEN_TYPES[need.code].restricted for need in self.needs)


@dataclass(frozen=True)
class Exclusion:
    start: date
    category: str
    reason: str | None
    sessions: int | None

    @property
    def restricted(self) -> bool:
        return self.reason is not None and EXCLUSION_REASONS[self.reason].restricted


@dataclass(frozen=True)
class YearAttendance:
    """Attendance figures with the key that names them in record ids (year, school, term)."""

    key: str
    figures: Attendance


@dataclass(frozen=True)
class Contact:
    """A parent, carer or other contact the school holds for the pupil (`Contacts/Contact`);
    `position` is its place in the file, which keeps its resource id stable across resends."""

    position: int
    relationship: str
    family: str | None
    given: tuple[str, ...]
    gender: str | None
    address_lines: tuple[str, ...]
    postcode: str | None


@dataclass(frozen=True)
class CtfPupil:
    pupil: Pupil
    enrolments: tuple[Enrolment, ...]
    sen: tuple[SenPeriod, ...]
    attendance: tuple[YearAttendance, ...]
    exclusions: tuple[Exclusion, ...]
    contacts: tuple[Contact, ...] = ()


def split_ctf(data: bytes) -> list[tuple[bytes, str]]:
    """Cut a CTF into one stand-alone CTF per pupil (header + that pupil) and its element path."""
    root = parse_xml(data, ROOT)
    read_header(root)
    header = root.require("Header").element
    documents = []
    for node in pupil_nodes(root):
        document = Element(ROOT)
        document.append(header)
        SubElement(document, PUPILS).append(node.element)
        documents.append((to_document(document), node.path))
    return documents


def read_record(raw: bytes, path: str | None) -> tuple[CtfHeader, CtfPupil]:
    """Read a one-pupil CTF made by `split_ctf`; `path` is the pupil's place in the original file."""
    root = parse_xml(raw, ROOT)
    header = read_header(root)
    nodes = pupil_nodes(root)
    if len(nodes) != 1:
        raise MappingError(
            f"expected one Pupil in this record, found {len(nodes)}",
            root.at(PUPILS),
            hint="send the whole file to split it into pupils",
        )
    node = XmlNode(nodes[0].element, path) if path and PUPIL_PATH.match(path) else nodes[0]
    return header, read_pupil(node, header)


def read_header(root: XmlNode) -> CtfHeader:
    header = root.require("Header")
    stamp = header.require_text("DateTime")
    try:
        created = datetime.fromisoformat(stamp)
    except ValueError:
        raise MappingError(
            "the value is not a date-time",
            header.at("DateTime"),
            hint="write it as YYYY-MM-DDThh:mm:ss",
        ) from None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UK_TIME)
    source = header.require("SourceSchool")
    school = School(
        urn=source.text("URN"),
        la=source.require_text("LEA"),
        estab=source.require_text("Estab"),
        name=source.text("SchoolName"),
    )
    return CtfHeader(created=created.astimezone(UTC), source=school)


def pupil_nodes(root: XmlNode) -> list[XmlNode]:
    return root.require(PUPILS).children("Pupil")


def read_pupil(node: XmlNode, header: CtfHeader) -> CtfPupil:
    """The pupil, or one error naming every problem of it (each element read, not only the first)."""
    found = Findings()
    dob = found.take(node.require_date, "DOB")
    made = header.created.date()
    born = (
        found.take(checked_birth_date, dob, node.at("DOB"), made, "the date the file was made")
        if dob
        else None
    )
    gender = found.take(node.code, node.pick("Gender", "Sex"), GENDERS)
    lines, postcode = _address(node)
    upn = found.take(lambda: checked_upn(node.require_text("UPN"), node.at("UPN")))
    family, forename = found.take(node.require_text, "Surname"), found.take(node.require_text, "Forename")
    uln = found.take(_uln, node)
    enrolments = [found.take(_enrolment, s, header, born) for s in node.items("SchoolHistory", "School")]
    sen = [found.take(_sen, s) for s in node.items("SENhistory", "SEN")]
    years = [found.take(_attendance, year, header) for year in node.items("Attendance", "YearData")]
    exclusions = [found.take(_exclusion, e) for e in node.items("Exclusions", "Exclusion")]
    contacts = [found.take(_contact, c, n) for n, c in enumerate(node.items("Contacts", "Contact"), 1)]
    found.check()
    pupil = Pupil(
        upn=str(upn),
        family=str(family),
        given=(str(forename), *(node.text("MiddleNames") or "").split()),
        birth_date=cast(date, born),
        gender=GENDERS[gender] if gender else None,
        preferred_family=node.text("PreferredSurname"),
        preferred_given=node.text("PreferredForename"),
        former_family=node.text("FormerSurname"),
        uln=uln,
        address_lines=lines,
        postcode=postcode,
    )
    return CtfPupil(
        pupil=pupil,
        enrolments=tuple(e for e in enrolments if e is not None),
        sen=tuple(s for s in sen if s is not None),
        attendance=tuple(item for year in years for item in year or ()),
        exclusions=tuple(e for e in exclusions if e is not None),
        contacts=tuple(c for c in contacts if c is not None),
    )


def _contact(node: XmlNode, position: int) -> Contact:
    """A contact; names and address are optional (a school may hold only a phone number)."""
    gender = node.code(node.pick("Gender", "Sex"), GENDERS)
    lines, postcode = _address(node)
    given = tuple(v for v in (node.text("Forename"), *(node.text("MiddleNames") or "").split()) if v)
    return Contact(
        position=position,
        relationship=(node.text("Relationship") or "").upper(),
        family=node.text("Surname"),
        given=given,
        gender=GENDERS[gender] if gender else None,
        address_lines=lines,
        postcode=postcode,
    )


def _uln(node: XmlNode) -> str | None:
    uln = node.text("UniqueLearnerNumber")
    if uln is not None and not re.fullmatch(r"\d{10}", uln):
        raise MappingError(
            "the unique learner number must be 10 digits",
            node.at("UniqueLearnerNumber"),
            hint="leave it out if the pupil has none",
        )
    return uln


def _address(node: XmlNode) -> tuple[tuple[str, ...], str | None]:
    address = node.find("Address")
    if address is None:
        return (), None
    structured = address.find("BS7666Address")
    lines_node = structured or address.find("AddressLines")
    names = BS7666_LINES if structured else ADDRESS_LINES
    lines = tuple(v for v in (lines_node.text(n) for n in names) if v) if lines_node else ()
    postcode = address.text("Postcode") or (structured.text("Postcode") if structured else None)
    return lines, normal_postcode(postcode) if postcode else None


def _school(node: XmlNode) -> School:
    """A school named by the LEA, Estab, URN and SchoolName children of `node`."""
    return School(
        urn=node.text("URN"), la=node.text("LEA"), estab=node.text("Estab"), name=node.text("SchoolName")
    )


def _enrolment(node: XmlNode, header: CtfHeader, born: date | None) -> Enrolment:
    school = _school(node)
    if school.urn is None and school.laestab and school.laestab == header.source.laestab:
        school = replace(school, urn=header.source.urn)
    found = Findings()
    entry = found.take(node.require_date, "EntryDate")
    leaving = found.take(node.as_date, "LeavingDate")
    if born is not None and entry is not None:
        found.take(checked_birth_date, born, node.at("EntryDate"), entry, "the school entry date")
    if entry is not None:
        found.take(check_order, entry, leaving, node.at("LeavingDate"))
    found.check()
    return Enrolment(school=school, entry=cast(date, entry), leaving=leaving)


def _sen(node: XmlNode) -> SenPeriod:
    start = node.require_date("StartDate")
    end = node.as_date("EndDate")
    check_order(start, end, node.at("EndDate"))
    needs = tuple(
        SenNeed(
            code=need.require_code(need.pick("SENtype", "Type"), SEN_TYPES),
            rank=need.integer(need.pick("SENtypeRank", "TypeRank"), low=1),
        )
        for need in node.items("SENneeds", "SENneed")
    )
    provision = node.require_code("SENprovision", SEN_PROVISION)
    return SenPeriod(start=start, end=end, provision=provision, needs=needs)


def _exclusion(node: XmlNode) -> Exclusion:
    return Exclusion(
        start=node.require_date("StartDate"),
        category=node.require_code("Category", EXCLUSION_CATEGORIES),
        reason=node.code("Reason", EXCLUSION_REASONS),
        sessions=node.integer("Sessions"),
    )


def _attendance(year_node: XmlNode, header: CtfHeader) -> list[YearAttendance]:
    """One academic year: `SessionAttendance` or `AttendanceTerm` blocks, or the figures inline."""
    year_text = year_node.require_text("Year")
    if not re.fullmatch(r"\d{4}", year_text):
        raise MappingError(
            "the year is not a 4-digit year",
            year_node.at("Year"),
            hint="write the year the academic year starts",
        )
    year = int(year_text)
    blocks = year_node.children("SessionAttendance") + year_node.children("AttendanceTerm")
    if not blocks:
        blocks = [year_node]
    as_of = min(date(year + 1, 7, 31), header.created.date())
    items = []
    for block in blocks:
        school = _school(block)
        if not (school.urn or school.laestab):
            school = header.source
        term = block.text("Term") or block.text("TermName")
        authorised = block.integer("SessionsAuthorised") or 0
        unauthorised = block.integer("SessionsUnauthorised") or 0
        possible = block.require_integer("SessionsPossible")
        period = f"{year}/{(year + 1) % 100:02d}" + (f" {term}" if term else "")
        figures = Attendance(
            period=period,
            as_of=as_of,
            school=school,
            possible=possible,
            attended=possible - authorised - unauthorised,
            authorised=authorised,
            unauthorised=unauthorised,
        )
        key = f"{year}/{school.key}" + (f"/{term}" if term else "")
        items.append(YearAttendance(key=key, figures=checked_attendance(figures, block.path)))
    return items
