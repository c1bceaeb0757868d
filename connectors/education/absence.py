"""Attendance figures, the attendance Observation and the persistent-absence rule, shared by the
CTF and the attendance return so both formats flag the same pupils the same way.

DfE rule: a pupil is persistently absent when they miss 10% or more of their possible sessions.
Compared in whole numbers (missed * 10 >= possible), so 10.0% exactly counts and rounding never
decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from connectors.education.codes import concept
from connectors.education.events import PupilEvents, at_midnight
from connectors.education.pupil import School
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from schemas.event_types import EventType

PERSISTENT_ABSENCE_SHARE = 10  # percent
UCUM = "http://unitsofmeasure.org"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"


@dataclass(frozen=True)
class Attendance:
    """Sessions of one pupil at one school over one period (a term, or an academic year)."""

    period: str
    as_of: date
    school: School
    possible: int
    attended: int
    authorised: int | None = None
    unauthorised: int | None = None

    @property
    def missed(self) -> int:
        return self.possible - self.attended

    @property
    def persistent_absence(self) -> bool:
        return self.missed * 100 >= self.possible * PERSISTENT_ABSENCE_SHARE


def checked_attendance(figures: Attendance, location: str) -> Attendance:
    """Reject figures that cannot all be true; `location` names the row or element."""
    if figures.possible < 1:
        raise MappingError(
            "sessions possible must be at least 1", location, hint="send figures once the pupil is on roll"
        )
    if not 0 <= figures.attended <= figures.possible:
        raise MappingError(
            "sessions attended or missed exceed the sessions possible",
            location,
            hint="check the attendance figures",
        )
    recorded = (figures.authorised or 0) + (figures.unauthorised or 0)
    if recorded > figures.missed:
        raise MappingError(
            "authorised plus unauthorised absences exceed the sessions missed",
            location,
            hint="check the attendance figures",
        )
    return figures


def _percent(part: int, whole: int) -> dict[str, Any]:
    return {"value": round(part * 100 / whole, 1), "unit": "%", "system": UCUM, "code": "%"}


def _count(code: str, display: str, value: int) -> dict[str, Any]:
    return {"code": concept(code, display), "valueInteger": value}


def attendance_events(source: PupilEvents, record_id: str, figures: Attendance) -> list[HubEvent]:
    """The attendance Observation event, plus a persistent-absence Flag event at 10% or more.

    The flag has its own record id (`flag_record_id`), so a caller whose earlier version of the
    record raised a flag can retract just the flag when corrected figures fall below 10%.
    """
    when = at_midnight(figures.as_of)
    components = [
        {"code": concept("reporting-period", "Reporting period"), "valueString": figures.period},
        _count("sessions-possible", "Sessions possible", figures.possible),
        _count("sessions-attended", "Sessions attended", figures.attended),
        _count("sessions-missed", "Sessions missed", figures.missed),
        {
            "code": concept("absence-rate", "Absence rate"),
            "valueQuantity": _percent(figures.missed, figures.possible),
        },
    ]
    if figures.authorised is not None:
        components.append(_count("authorised-absence", "Authorised absence sessions", figures.authorised))
    if figures.unauthorised is not None:
        components.append(
            _count("unauthorised-absence", "Unauthorised absence sessions", figures.unauthorised)
        )
    observation = {
        "resourceType": "Observation",
        "id": source.resource_id("attendance", record_id),
        "status": "final",
        "category": [concept("education", "Education")],
        "code": concept("school-attendance", "School attendance"),
        "subject": source.patient_reference,
        "effectiveDateTime": figures.as_of.isoformat(),
        "performer": [figures.school.reference()],
        "valueQuantity": _percent(figures.attended, figures.possible),
        "component": components,
    }
    events = [source.event(EventType.ATTENDANCE, record_id, when, [observation])]
    if figures.persistent_absence:
        flag_id = flag_record_id(record_id)
        flag = {
            "resourceType": "Flag",
            "id": source.resource_id("persistent-absence", flag_id),
            "status": "active",
            "category": [
                {"coding": [{"system": FLAG_CATEGORY, "code": "admin", "display": "Administrative"}]}
            ],
            "code": {
                **concept("persistent-absence", "Persistent absence"),
                "text": f"Persistent absence: {_percent(figures.missed, figures.possible)['value']}% "
                f"of sessions missed in {figures.period}",
            },
            "subject": source.patient_reference,
            "period": {"start": figures.as_of.isoformat()},
            "author": figures.school.reference(),
        }
        events.append(source.event(EventType.PERSISTENT_ABSENCE, flag_id, when, [flag]))
    return events


def flag_record_id(record_id: str) -> str:
    """Record id of the persistent-absence flag raised from an attendance record."""
    return f"{record_id}/persistent-absence"
