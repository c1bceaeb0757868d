"""What a hub event says about who it is about: the identity facts matching works on.

Connectors put the subject's identifiers in `HubEvent.subjects` and the demographics in a Patient
entry (name, birthDate, gender, postalCode, the NHS number verification-status extension); family
members arrive as RelatedPerson entries (NK1, PDS, GP next of kin, school contacts), as a second Patient in a
birth notification (the mother), or as a partner's family/household id. This module reads those,
folded and normalised once, so comparators and blocking never see FHIR.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemas.envelope import HubEvent, Identifier
from schemas.event_types import EventType
from schemas.identifiers import LOCAL_PREFIX, NHS_NUMBER, NHS_NUMBER_VERIFICATION_EXTENSION, UPN
from services.identity.comparators import fold

FAMILY_KINDS = frozenset({"family", "household", "family-group"})
"""Local identifier kinds that name a family, not a person (social care family ids)."""
VERIFIED_CODE = "01"
"""UK Core NHS number verification status 01: number present and verified (traced on PDS)."""
_PARENT_CODES = frozenset(
    {"MTH", "FTH", "PRN", "PAR", "NMTH", "NFTH", "STPMTH", "STPFTH", "STPPRN", "GUARD", "GRD",
     "FMTH", "FFTH", "MOTHER", "FATHER", "PARENT", "GUARDIAN", "CARER", "FOSTER", "KIN"}
)  # fmt: skip
_SUBJECT_ELEMENTS = ("subject", "patient", "beneficiary", "for")
_CHILD_CODES = frozenset({"CHILD", "CHD", "SON", "DAU", "NCHILD", "STPCHLD", "DAUC", "SONC"})
_SIBLING_CODES = frozenset({"SIB", "BRO", "SIS", "NSIB", "HSIB", "STPSIB", "SIBLING"})
_PARTNER_CODES = frozenset({"SPS", "HUSB", "WIFE", "DOMPART", "SPO", "DOM", "SPOUSE", "PARTNER"})


class Role(StrEnum):
    """How a related person stands to the event's subject."""

    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    PARTNER = "partner"


@dataclass(frozen=True)
class Facts:
    """Identity facts of one person as one source record states them."""

    identifiers: tuple[Identifier, ...]
    verified_nhs: bool = False
    given: str = ""
    family: str = ""
    birth_date: str = ""
    sex: str = ""
    postcode: str = ""

    @property
    def nhs(self) -> str:
        return next((i.value for i in self.identifiers if i.system == NHS_NUMBER), "")

    @property
    def tokens(self) -> tuple[str, ...]:
        """Identifier tokens, strongest first: NHS number, UPN, partner-local ids."""
        rank = {NHS_NUMBER: 0, UPN: 1}
        return tuple(i.token for i in sorted(self.identifiers, key=lambda i: rank.get(i.system, 2)))

    @property
    def source_token(self) -> str:
        """The most source-specific identifier (a partner's own id before an NHS number): which
        source record stated these facts, the unit an unmerge moves."""
        return self.tokens[-1]

    def demographics(self) -> tuple[str, str, str, str, str]:
        return (self.given, self.family, self.birth_date, self.sex, self.postcode)


@dataclass(frozen=True)
class Relation:
    """A family member named by an event, and how they stand to its subject."""

    role: Role
    facts: Facts


@dataclass(frozen=True)
class EventFacts:
    """Everything identity resolution reads from one event."""

    subject: Facts
    relations: tuple[Relation, ...]
    family_tokens: tuple[str, ...]


def read_event(event: HubEvent) -> EventFacts:
    """The subject's facts (subjects plus its Patient entry), related people and family ids."""
    subject_tokens = {s.token for s in event.subjects}
    patients = [e.resource for e in event.entries if e.resource.get("resourceType") == "Patient"]
    own = next((p for p in patients if subject_tokens & _tokens(p)), patients[0] if patients else None)
    if own is None and event.entries:
        own = _contained_subject(event.entries[0].resource)
    family_tokens = {s.token for s in event.subjects if _is_family(s)}
    identifiers = [s for s in event.subjects if not _is_family(s)]
    if own is not None:
        family_tokens |= {i.token for i in _identifiers(own) if _is_family(i)}
        identifiers += [i for i in _identifiers(own) if not _is_family(i) and i not in identifiers]
    if not identifiers:  # only a family id names the subject: the source record stands in
        identifiers = [Identifier(system=event.source_system, value=event.source_record_id)]
    subject = _facts(own or {}, identifiers)
    relations = [r for p in patients if p is not own and (r := _mother(event, p))]
    relations += [
        r
        for e in event.entries
        if e.resource.get("resourceType") == "RelatedPerson" and (r := _related(event, e.resource))
    ]
    return EventFacts(subject=subject, relations=tuple(relations), family_tokens=tuple(sorted(family_tokens)))


def _contained_subject(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The Patient contained in the event's record that its subject names (`#Pat1`: the NHS
    Immunisation API's layout): the only place its demographics are. Its id is never an
    identifier (it means something only inside this resource); its demographics are matched."""
    for name in _SUBJECT_ELEMENTS:
        reference = resource.get(name)
        text = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(text, str) and text.startswith("#"):
            for item in resource.get("contained") or []:
                if isinstance(item, dict) and item.get("id") == text[1:]:
                    return item if item.get("resourceType") == "Patient" else None
    return None


def _mother(event: HubEvent, patient: dict[str, Any]) -> Relation | None:
    """A second Patient in a birth notification is the mother; elsewhere it is not a relation."""
    if event.event_type != EventType.BIRTH_NOTIFICATION:
        return None
    found = [i for i in _identifiers(patient) if not _is_family(i)]
    return Relation(Role.PARENT, _facts(patient, found or [_anonymous(event, patient)]))


def _related(event: HubEvent, resource: dict[str, Any]) -> Relation | None:
    """A RelatedPerson whose relationship is a parent/carer, child, sibling or partner (spouse,
    domestic partner: v3 RoleCode, HL7 table 0063); others (a neighbour, a social worker) are
    contacts, not family."""
    codes: set[str] = set()
    for concept in resource.get("relationship") or []:
        codes |= {str(c.get("code", "")).upper() for c in concept.get("coding") or []}
        codes.add(str(concept.get("text", "")).upper())
    role = (
        Role.PARENT
        if codes & _PARENT_CODES
        else Role.CHILD
        if codes & _CHILD_CODES
        else Role.SIBLING
        if codes & _SIBLING_CODES
        else Role.PARTNER
        if codes & _PARTNER_CODES
        else None
    )
    if role is None:
        return None
    found = [i for i in _identifiers(resource) if not _is_family(i)]
    return Relation(role, _facts(resource, found or [_anonymous(event, resource)]))


def _anonymous(event: HubEvent, resource: dict[str, Any]) -> Identifier:
    """A person named only by demographics gets an id local to the record that names them (the
    connector's resource id is stable across re-sends), so re-delivery finds the same person."""
    return Identifier(system=f"{LOCAL_PREFIX}{event.source_partner}/related", value=str(resource.get("id")))


def _facts(resource: dict[str, Any], identifiers: list[Identifier]) -> Facts:
    name = _usual_name(resource)
    given = fold(" ".join(name.get("given") or []))
    family = fold(name.get("family"))
    postcode = next(
        (a["postalCode"].upper() for a in resource.get("address") or [] if a.get("postalCode")), ""
    )
    return Facts(
        identifiers=tuple(identifiers),
        verified_nhs=_nhs_verified(resource),
        given=given,
        family=family,
        birth_date=str(resource.get("birthDate") or "")[:10],
        sex=str(resource.get("gender") or ""),
        postcode=" ".join(postcode.split()),
    )


def _usual_name(resource: dict[str, Any]) -> dict[str, Any]:
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    current = [n for n in names if n.get("use") not in ("old", "maiden", "nickname")]
    return (current or names or [{}])[0]


def _nhs_verified(resource: dict[str, Any]) -> bool:
    for ident in resource.get("identifier") or []:
        if ident.get("system") != NHS_NUMBER:
            continue
        for ext in ident.get("extension") or []:
            if ext.get("url") != NHS_NUMBER_VERIFICATION_EXTENSION:
                continue
            codings = (ext.get("valueCodeableConcept") or {}).get("coding") or []
            if any(c.get("code") == VERIFIED_CODE for c in codings):
                return True
    return False


def _identifiers(resource: dict[str, Any]) -> list[Identifier]:
    found = []
    for ident in resource.get("identifier") or []:
        system, value = ident.get("system"), ident.get("value")
        if isinstance(system, str) and isinstance(value, str) and system and value.strip():
            found.append(Identifier(system=system, value=value.strip()))
    return found


def _tokens(resource: dict[str, Any]) -> set[str]:
    return {i.token for i in _identifiers(resource)}


def _is_family(ident: Identifier) -> bool:
    return ident.system.startswith(LOCAL_PREFIX) and ident.system.rsplit("/", 1)[-1] in FAMILY_KINDS
