"""`ctf`: DfE Common Transfer File XML, sent by a school when pupils leave for another school.

Layout per the DfE CTF specification as hubnet reads it: root `CTfile`, a `Header` naming the
source and destination schools, then `CTFpupilData/Pupil` with UPN, names, DOB, gender, postcode,
school history, SEN history, attendance by year and exclusions. One file per (source school,
destination school, transfer date): Year 6 leavers go together in July, in-year movers alone.
A pupil record's id is its UPN and its version the header date-time. A deliberately broken pupil
travels in a file of its own, whole or cut off mid-way, so exactly it is rejected.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from services.synthetic.mess import View, bad_date
from services.synthetic.partners import LA_CODE, Partner
from services.synthetic.records import LifeEvent
from services.synthetic.writer import Defect, Fields, FormatWriter

SUPPLIER = "HUBNET-SYNTHETIC-MIS"
GENDER = {"female": "F", "male": "M"}
CONTACT_CODES = {"mother": "PAM", "father": "PAF", "step-parent": "STP"}
"""CBDS relationship to pupil of each kind of carer."""


def _element(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def _block(name: str, children: Sequence[tuple[str, object]]) -> str:
    """An element of simple children; a list value is a nested block (a contact's `Address`)."""
    inner = "".join(
        _block(k, v) if isinstance(v, list) else _element(k, v) for k, v in children if v not in (None, "")
    )
    return f"<{name}>{inner}</{name}>"


def _list(name: str, item: str, blocks: Sequence[Sequence[tuple[str, object]]]) -> str:
    """A container of blocks (`<SENhistory><SEN>..</SEN></SENhistory>`); nothing when empty."""
    return f"<{name}>" + "".join(_block(item, b) for b in blocks) + f"</{name}>" if blocks else ""


def academic_year(day: date) -> str:
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}/{first + 1}"


class CtfWriter(FormatWriter):
    fmt = "ctf"
    extension = "xml"
    period = "day"
    versioned = False

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        detail: dict[str, Any] = event.detail
        return {
            "upn": event.person.upn,
            "surname": view.surname,
            "forename": view.given,
            "dob": view.birth_date.isoformat(),
            "gender": GENDER.get(event.person.sex, "U"),
            "postcode": view.postcode,
            "history": detail["history"],
            "sen": detail.get("sen", ()),
            "attendance": detail.get("attendance", ()),
            "exclusions": detail.get("exclusions", ()),
            "contacts": [
                [
                    ("Order", n),
                    ("Surname", kin.view.surname),
                    ("Forename", kin.view.given),
                    ("Gender", GENDER.get(kin.person.sex, "U")),
                    ("Relationship", CONTACT_CODES[kin.relation]),
                    ("Responsibility", "true"),
                    ("Address", [("Postcode", kin.view.postcode)]),
                ]
                for n, kin in enumerate(view.kin, 1)
            ],
            "sent": f"{event.at.date().isoformat()}T16:00:00",
            "_day": event.at.date(),
        }

    def record_id_of(self, fields: Fields) -> str:
        return str(fields["upn"])

    def version_of(self, fields: Fields) -> str:
        return str(fields["sent"])

    def malform(self, fields: Fields, rng: random.Random) -> Defect:
        if rng.random() < 0.5:
            return Defect.TRUNCATED
        fields["dob"] = bad_date(rng, fields["_day"])
        return Defect.ALONE

    def encode(self, fields: Fields) -> bytes:
        parts = [
            _element("UPN", fields["upn"]),
            _element("Surname", fields["surname"]),
            _element("Forename", fields["forename"]),
            _element("DOB", fields["dob"]),
            _element("Gender", fields["gender"]),
            _block("Address", [("Postcode", fields["postcode"])]),
            _list("Contacts", "Contact", fields["contacts"]),
            _list("SchoolHistory", "School", fields["history"]),
        ]
        parts.append(_list("SENhistory", "SEN", fields["sen"]))
        parts.append(_list("Attendance", "YearData", fields["attendance"]))
        parts.append(_list("Exclusions", "Exclusion", fields["exclusions"]))
        return ("<Pupil>" + "".join(parts) + "</Pupil>\n").encode()

    def assemble(
        self, partner: Partner, group: str, period: str, bodies: Sequence[bytes]
    ) -> tuple[bytes, list[str]]:
        day = date.fromisoformat(period[:10])
        dest = self.directory.by_code()[group.removeprefix("to-")]
        source = _block(
            "SourceSchool",
            [
                ("LEA", LA_CODE),
                ("Estab", partner.estab),
                ("URN", partner.code),
                ("SchoolName", partner.name),
                ("AcademicYear", academic_year(day)),
            ],
        )
        header = (
            "<Header>"
            + _element("DocumentName", "Common Transfer File")
            + _element("CTFversion", "24.0")
            + _element("DateTime", f"{day.isoformat()}T16:00:00")
            + _element("DocumentQualifier", "full")
            + _element("SupplierID", SUPPLIER)
            + source
            + _block("DestSchool", [("LEA", LA_CODE), ("Estab", dest.estab)])
            + "</Header>\n"
        )
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<CTfile>\n{header}<CTFpupilData>\n'.encode()
        return head + b"".join(bodies) + b"</CTFpupilData>\n</CTfile>\n", [
            f"pupil {n}" for n in range(1, len(bodies) + 1)
        ]
