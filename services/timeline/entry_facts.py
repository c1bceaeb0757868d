"""What an entry says, in words: its title and its key figures, per hub event type. Pure.

Why: staff read a timeline like a case note ("MMR 1st dose given", "Autumn term attendance 86%
(persistently absent)", "Child in need plan started"); the figures the partner sent (sessions,
ASQ-3 scores, vaccine and dose, review outcome) belong in a small table, not in raw FHIR.

Everything here reads the resources as the reader may see them (after services/timeline/
free_text.py redacted them): a withheld text is skipped, never shown, and the title falls back to
the coded display.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from schemas.event_types import EventType, definition
from services.consent.rules import named_partners, permits
from services.timeline.free_text import WITHHELD
from services.timeline.titles import partner_label

Resource = dict[str, Any]
Fact = tuple[str, str]

CONTEXT_TYPES = frozenset({"Patient", "RelatedPerson", "Organization", "Practitioner", "Location"})
"""Resources that say who and where, not what happened."""

PERSISTENT_ABSENCE_BELOW = 90.0
"""DfE: a pupil missing 10% or more of possible sessions is persistently absent."""

PROGRAMMES = (
    ("m-m-rvaxpro", "MMR"), ("priorix", "MMR"), ("infanrix hexa", "6-in-1"), ("vaxelis", "6-in-1"),
    ("bexsero", "MenB"), ("prevenar", "Pneumococcal (PCV)"), ("rotarix", "Rotavirus"),
    ("menitorix", "Hib/MenC"), ("boostrix-ipv", "4-in-1 pre-school booster"),
    ("repevax", "4-in-1 pre-school booster"), ("fluenz", "Flu"), ("priorix-tetra", "MMRV"),
)  # fmt: skip
"""A vaccine product (its dm+d / SNOMED display starts with the brand) to the name of its UK routine
childhood schedule programme, the words parents and health visitors use ("MMR", "6-in-1"); the
product's full name stays in the key figures."""

_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}
_TERMS = {"autumn": "Autumn term", "spring": "Spring term", "summer": "Summer term"}
_STATED = frozenset({"CarePlan", "EpisodeOfCare", "Flag", "Condition", "Consent"})
"""Resources whose status says whether something began or ended ("Child in need plan started")."""
_STATUS_WORDS = {
    "active": "started",
    "in-progress": "started",
    "finished": "",
    "completed": "",
    "cancelled": "cancelled",
    "entered-in-error": "entered in error",
    "revoked": "withdrawn",
    "inactive": "ended",
}


def text(value: Any) -> str:
    """A CodeableConcept's (or list's) words: its text unless withheld, else a coding display."""
    if isinstance(value, list):
        return next((t for item in value if (t := text(item))), "")
    if not isinstance(value, dict):
        return ""
    own = value.get("text")
    if isinstance(own, str) and own and own != WITHHELD:
        return own
    for coding in value.get("coding") or []:
        if isinstance(coding, dict) and coding.get("display"):
            return str(coding["display"])
    return ""


def code_of(value: Any, system_part: str) -> str:
    """The code of the first coding whose system contains `system_part`, else ""."""
    concepts = value if isinstance(value, list) else [value]
    for concept in concepts:
        for coding in (concept or {}).get("coding") or [] if isinstance(concept, dict) else []:
            if system_part in str(coding.get("system", "")) and coding.get("code"):
                return str(coding["code"])
    return ""


def main_resource(resources: Sequence[Resource]) -> Resource | None:
    """The resource the entry is about: the first that is not context (for a person event, the
    Patient)."""
    for resource in resources:
        if resource.get("resourceType") not in CONTEXT_TYPES:
            return resource
    return resources[0] if resources else None


def title(
    event_type: str, resources: Sequence[Resource], partner_name: Callable[[str], str] = partner_label
) -> str:
    """The entry's title in words, from its event type's own builder, else the generic one; a
    partner a consent is about is named by `partner_name`."""
    main = main_resource(resources)
    try:
        kind = EventType(event_type)
    except ValueError:
        return _generic(main) or "Timeline entry"
    if kind is EventType.CONSENT_RECORDED:
        built = _consent(main or {}, partner_name)
    else:
        builder = _TITLES.get(kind)
        built = builder(main or {}, resources) if builder else ""
    return built or _generic(main) or definition(kind).display


def facts(event_type: str, resources: Sequence[Resource]) -> tuple[Fact, ...]:
    """The key figures as (label, value) rows, in the order the partner sent them."""
    rows: list[Fact] = []
    for resource in resources:
        kind = resource.get("resourceType")
        if kind == "Immunization":
            rows += _immunisation_facts(resource)
        elif kind == "Observation":
            rows += _observation_facts(resource)
        elif kind in ("Encounter", "EpisodeOfCare", "CarePlan", "Flag", "Procedure", "ServiceRequest"):
            rows += _care_facts(resource)
    return tuple(dict.fromkeys(row for row in rows if row[1]))  # once each, in order


def _generic(main: Resource | None) -> str:
    if not main:
        return ""
    for field in ("code", "vaccineCode", "type", "category", "class", "serviceType", "relationship"):
        words = text(main.get(field))
        if words:
            stated = main.get("resourceType") in _STATED
            status = _STATUS_WORDS.get(str(main.get("status", "")), "") if stated else ""
            return f"{words} {status}".strip() if status else words
    return ""


def _immunisation(main: Resource, _: Sequence[Resource]) -> str:
    if not main.get("vaccineCode"):
        return ""
    vaccine = _vaccine_name(main) or "Vaccination"
    dose = _dose(main)
    verb = "not given" if main.get("status") == "not-done" else "given"
    return f"{vaccine} {dose + ' dose ' if dose else ''}{verb}"


def _vaccine_name(main: Resource) -> str:
    """The vaccine's short name: the words before "vaccine" in its display ("M-M-RvaxPro")."""
    words = text(main.get("vaccineCode"))
    if not words or code_of(main.get("vaccineCode"), "NullFlavor"):
        return ""
    short = words.split(" vaccine")[0].strip()
    brand = short.lower()
    found = [name for product, name in PROGRAMMES if brand.startswith(product)]
    return found[-1] if found else short or words


def _dose(main: Resource) -> str:
    for protocol in main.get("protocolApplied") or []:
        number = protocol.get("doseNumberPositiveInt")
        if isinstance(number, int):
            return _ORDINALS.get(number, f"{number}th")
        if protocol.get("doseNumberString") and protocol["doseNumberString"] != "unknown":
            return str(protocol["doseNumberString"])
    return ""


def _review(main: Resource, resources: Sequence[Resource]) -> str:
    review = text([t for t in main.get("type") or [] if not code_of(t, "contact-outcome")])
    if not review:
        return ""
    review = review.replace("2-2.5", "2-2½")
    outcome = code_of(main.get("type"), "hv-contact-outcome")
    if outcome and outcome != "completed":
        return f"{review}: {outcome.replace('-', ' ')}"
    flagged = [
        text(r.get("code")) for r in resources
        if r.get("resourceType") == "Observation" and _below(r)
    ]  # fmt: skip
    return f"{review}: {', '.join(flagged)} below cut-off" if flagged else review


def _below(observation: Resource) -> bool:
    """Whether the partner marked a score below its cut-off (Observation.interpretation L/LL)."""
    return code_of(observation.get("interpretation"), "ObservationInterpretation") in ("L", "LL")


def _attendance(main: Resource, resources: Sequence[Resource]) -> str:
    figures = dict(_components(main))
    period = _period_words(figures.get("Reporting period", ""))
    value = (main.get("valueQuantity") or {}).get("value")
    if not isinstance(value, int | float):
        return ""
    absent = value < PERSISTENT_ABSENCE_BELOW
    return f"{period or 'School'} attendance {value:g}%{' (persistently absent)' if absent else ''}"


def _period_words(period: str) -> str:
    """ "2024-autumn" as "Autumn term 2024"."""
    year, _, term = period.partition("-")
    return f"{_TERMS[term]} {year}" if term in _TERMS else period


def _persistent_absence(main: Resource, _: Sequence[Resource]) -> str:
    return "Persistently absent" if main else ""


def _care_episode(main: Resource, _: Sequence[Resource]) -> str:
    what = text(main.get("category")) or text(main.get("type"))
    if not what:
        return ""
    ended = (main.get("period") or {}).get("end") or main.get("status") in ("completed", "finished")
    return f"{what} {'ended' if ended else 'started'}"


def _person(main: Resource, _: Sequence[Resource]) -> str:
    return ""


def _consent(main: Resource, partner_name: Callable[[str], str]) -> str:
    """Given or withdrawn, and about whom (by `partner_name`: the page's reference names), read as
    the consent domain reads the decision (services/consent/rules.py): every decision was titled
    "Consent recorded", a withdrawal too."""
    if main.get("resourceType") != "Consent":
        return ""
    about = ", ".join(partner_name(code) for code in named_partners(main))
    verb = "given" if permits(main) else "withdrawn"
    return f"Consent to share with {about} {verb}" if about else f"Consent to share {verb}"


_TITLES: dict[EventType, Callable[[Resource, Sequence[Resource]], str]] = {
    EventType.IMMUNISATION: _immunisation,
    EventType.HEALTH_VISITOR_REVIEW: _review,
    EventType.ATTENDANCE: _attendance,
    EventType.PERSISTENT_ABSENCE: _persistent_absence,
    EventType.CARE_EPISODE: _care_episode,
    EventType.PERSON_REGISTERED: _person,
    EventType.PERSON_UPDATED: _person,
}


def _components(observation: Resource) -> list[Fact]:
    return [(text(c.get("code")), _value(c)) for c in observation.get("component") or []]


def _value(item: Resource) -> str:
    """An element's value[x] as words: a quantity with its unit, a concept's display."""
    if (quantity := item.get("valueQuantity")) is not None:
        unit = quantity.get("unit") or quantity.get("code") or ""
        return f"{quantity.get('value', '')}{'%' if unit == '%' else ' ' + unit if unit else ''}"
    for key in ("valueInteger", "valueDecimal", "valueBoolean", "valueDateTime", "valueDate"):
        if key in item:
            value = item[key]
            return ("yes" if value else "no") if isinstance(value, bool) else str(value)
    if "valueCodeableConcept" in item:
        return text(item["valueCodeableConcept"])
    value = item.get("valueString")
    return str(value) if isinstance(value, str) else ""


def _immunisation_facts(resource: Resource) -> list[Fact]:
    dose = resource.get("doseQuantity") or {}
    return [
        ("Vaccine", text(resource.get("vaccineCode"))),
        ("Dose", _dose(resource)),
        ("Amount", f"{dose.get('value')} {dose.get('unit', '')}".strip() if dose else ""),
        ("Batch", str(resource.get("lotNumber") or "")),
        ("Site", text(resource.get("site"))),
        ("Route", text(resource.get("route"))),
    ]


def _observation_facts(resource: Resource) -> list[Fact]:
    label = text(resource.get("code"))
    rows = [(label, _value(resource))] if label else []
    if interpretation := text(resource.get("interpretation")):
        rows.append((f"{label} result", interpretation))
    return rows + [(name, value) for name, value in _components(resource) if name]


def _care_facts(resource: Resource) -> list[Fact]:
    period = resource.get("period") or resource.get("performedPeriod") or {}
    outcome = text([t for t in resource.get("type") or [] if code_of(t, "contact-outcome")])
    outcome = outcome or code_of(resource.get("type"), "contact-outcome").replace("-", " ")
    start, end = str(period.get("start") or "")[:10], str(period.get("end") or "")[:10]
    return [
        ("Outcome", outcome),
        ("Reason", text(resource.get("reasonCode"))),
        ("Priority", str(resource.get("priority") or "")),
        ("Started", start if end and end != start else ""),
        ("Ended", end if end != start else ""),
    ]
