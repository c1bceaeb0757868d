"""Whom a FHIR resource is about, as normalised subject identifiers.

Every hub event needs at least one subject identifier so identity resolution can place it on a
person's timeline. FHIR names the person in `subject`, `patient`, `beneficiary` or `for` (and an
Appointment in a participant's `actor`); the reference may point at a Patient in the same Bundle,
a contained Patient, carry a logical `identifier`, or only name the partner's own record id.
NHS numbers are normalised to `https://fhir.nhs.uk/Id/nhs-number` and their check digit enforced
here, once, for every FHIR-based connector; identifier extensions (UK Core NHS number
verification status) are kept.

Which ids may link two records (docs/identity.md): identifiers with a `system`, and the partner's
own logical id of a Patient (`Patient/123`: a FHIR logical id, which its server never reassigns),
scoped to the partner. A contained Patient's id (`#Pat1`) is meaningful only inside its container
(FHIR R4 "Contained Resources"), and a `urn:uuid:` fullUrl only inside its Bundle: neither names
a person. A Patient known only by such a name gets a subject identifier scoped to the one record
that carries it (`local/<partner>/record|<record id>`), so identity resolution matches it on its
demographics or sends it to review, and two children with the same contained id stay two people.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from connectors.common.demographics import checked_nhs_number
from connectors.common.fhir_refs import hub_resource_id, logical_key, rewrite_references
from schemas.envelope import Identifier
from schemas.errors import NotAPersonRecordError, ValidationError
from schemas.identifiers import NHS_NUMBER, RECORD_SCOPED_KIND, local_system

SUBJECT_ELEMENTS = ("subject", "patient", "beneficiary", "for")
NHS_NUMBER_SYSTEMS = frozenset(
    {NHS_NUMBER, "http://fhir.nhs.net/Id/nhs-number", "urn:oid:2.16.840.1.113883.2.1.4.1"}
)
_PEOPLE = frozenset({"Patient", "RelatedPerson"})
Lookup = Callable[[str], dict[str, Any] | None]
"""Finds a referenced resource by its reference text (in a Bundle), or None."""


@cache
def can_name_a_person(resource_type: str) -> bool:
    """Whether the R4 definition of a resource type has an element that can name the person it is
    about (an unknown type is given the benefit of the doubt: its own validation refuses it)."""
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        return True
    names = {field.alias or name for name, field in model.model_fields.items()}
    return any(name in names for name in (*SUBJECT_ELEMENTS, "participant", "actor"))


def subject_reference(resource: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The FHIR path and Reference naming the person a resource is about; None when it names none."""
    resource_type = resource.get("resourceType")
    for name in SUBJECT_ELEMENTS:
        value = resource.get(name)
        if isinstance(value, dict):
            return f"{resource_type}.{name}", value
        if isinstance(value, list):  # Account.subject is 0..* in R4: the first Patient it names
            for position, item in enumerate(value):
                if isinstance(item, dict) and _names_type(item, "Patient"):
                    return f"{resource_type}.{name}[{position}]", item
    if resource_type == "Appointment":
        for position, participant in enumerate(resource.get("participant") or []):
            actor = participant.get("actor") or {}
            if _names_type(actor, "Patient"):
                return f"Appointment.participant[{position}].actor", actor
    return None


def normalise_identifier(identifier: dict[str, Any], where: str) -> dict[str, Any]:
    """The identifier with an NHS number normalised (system URL, no spaces), extensions kept;
    raises `MappingError` when the NHS number fails its modulus 11 check."""
    system = identifier.get("system")
    if (
        not isinstance(system, str)
        or system not in NHS_NUMBER_SYSTEMS
        or not isinstance(identifier.get("value"), str)
    ):
        return identifier  # other identifiers, and malformed ones that model validation names
    number = checked_nhs_number(identifier["value"], f"{where}.value")
    return {**identifier, "system": NHS_NUMBER, "value": number}


def normalise_patient(patient: dict[str, Any], where: str = "Patient") -> dict[str, Any]:
    """A copy of a Patient (or RelatedPerson) with every identifier normalised."""
    identifiers = patient.get("identifier")
    if not isinstance(identifiers, list):
        return patient
    return {
        **patient,
        "identifier": [
            normalise_identifier(item, f"{where}.identifier[{i}]") if isinstance(item, dict) else item
            for i, item in enumerate(identifiers)
        ],
    }


def as_hub_resource(
    resource: dict[str, Any], key: str, source_system: str, targets: dict[str, str]
) -> dict[str, Any]:
    """The resource as a hub event carries it: its hub id, the partner's own name for it kept in
    `meta.source`, references pointing at hub ids, people's NHS numbers normalised."""
    out: dict[str, Any] = rewrite_references(resource, targets)
    if out.get("resourceType") in _PEOPLE:
        out = normalise_patient(out, str(out["resourceType"]))
    out["meta"] = {"source": key, **(out.get("meta") or {})}
    out["id"] = hub_resource_id(source_system, key)
    return out


def identifiers_of(
    patient: dict[str, Any], where: str, fallback: Callable[[], Identifier]
) -> list[Identifier]:
    """Subject identifiers of a Patient: the NHS number first, then its other identifiers; the
    fallback (the partner's own record id) when it has none with both system and value."""
    found: list[Identifier] = []
    for i, item in enumerate(patient.get("identifier") or []):
        if not isinstance(item, dict):
            continue
        normal = normalise_identifier(item, f"{where}.identifier[{i}]")
        system, value = normal.get("system"), normal.get("value")
        if isinstance(system, str) and isinstance(value, str) and system and value.strip():
            found.append(Identifier(system=system, value=value.strip()))
    found.sort(key=lambda ident: ident.system != NHS_NUMBER)
    return found or [fallback()]


def resolve_subject(
    resource: dict[str, Any],
    lookup: Lookup,
    partner: str,
    own_name: str | None = None,
    logical_ids: bool = False,
) -> tuple[list[Identifier], dict[str, Any] | None]:
    """Subject identifiers of a resource, and the Patient resource when the input holds it.
    `own_name` is how the input names the resource (its fullUrl), for a Patient without an id.
    `logical_ids`: the input names resources by the partner's server ids (a resource alone, an
    NDJSON line, a Bundle with server URL fullUrls), so a Patient's id joins its identifiers;
    a message's resource ids are its own (NEMS), and `urn:uuid:` names are placeholders.

    Raises `ValidationError` naming the element when the resource names no person, or names
    something that is not a Patient (a Group, a Location, a Device)."""
    if resource.get("resourceType") == "Patient":
        own = identifiers_of(resource, "Patient", _local(partner, resource, own_name))
        if logical_ids and not (own_name or "").startswith("urn:"):
            own = _with_logical_id(own, partner, resource, own_name)
        return own, resource
    record = logical_key(resource, own_name)
    if resource.get("resourceType") == "Linkage":
        return _linked_people(resource, lookup, partner, record), None
    found = subject_reference(resource)
    if found is None and not can_name_a_person(str(resource.get("resourceType"))):
        raise NotAPersonRecordError(
            f"a {resource.get('resourceType')} is never about one person (FHIR gives it no subject, "
            "patient, beneficiary, for or participant element), so it has no place on a timeline",
            location=str(resource.get("resourceType")),
            hint="send the records about people; this entry can be left out",
        )
    if found is None:
        raise ValidationError(
            f"this {resource.get('resourceType')} names no person (it has no subject, patient, "
            "beneficiary or for element), so the hub cannot place it on anyone's timeline",
            location=str(resource.get("resourceType")),
            hint="reference the Patient the record is about",
        )
    path, reference = found
    text = reference.get("reference")
    target = _contained(resource, text) if isinstance(text, str) and text.startswith("#") else None
    if target is None and isinstance(text, str):
        target = lookup(text)
    if target is not None:
        if target.get("resourceType") != "Patient":
            raise ValidationError(
                f"the subject is a {target.get('resourceType')}, not a Patient",
                location=path,
                hint="the hub records events about people; reference the Patient",
            )
        if isinstance(text, str) and text.startswith("#"):
            return identifiers_of(target, "Patient", _record_scoped(partner, record)), target
        named = identifiers_of(target, "Patient", _local(partner, target, text, record))
        if logical_ids and isinstance(text, str) and not text.startswith("urn:"):
            named = _with_logical_id(named, partner, target, text)
        return named, target
    return _logical(reference, path, partner, record), None


def _linked_people(linkage: dict[str, Any], lookup: Lookup, partner: str, record: str) -> list[Identifier]:
    """A Linkage says its items are one real-world person (FHIR R4 Linkage: "records that refer
    to the same real-world occurrence"): the identifiers of every Patient it links, the `source`
    item first, so identity resolution, seeing one record quote identifiers of several hub
    persons, merges them (docs/identity.md). It must link at least two Patients."""
    items = [i for i in linkage.get("item") or [] if isinstance(i, dict)]
    items.sort(key=lambda item: item.get("type") != "source")
    found: list[Identifier] = []
    for position, item in enumerate(items):
        given = item.get("resource")
        reference: dict[str, Any] = given if isinstance(given, dict) else {}
        text = reference.get("reference")
        target = lookup(text) if isinstance(text, str) else None
        where = f"Linkage.item[{position}].resource"
        if target is not None and target.get("resourceType") != "Patient":
            raise ValidationError(
                f"the Linkage links a {target.get('resourceType')}, not a Patient",
                location=where,
                hint="hubnet reads a Linkage of Patients as a merge of one person's records",
            )
        named = identifiers_of(target, "Patient", _local(partner, target, text, record)) if target else None
        found += [i for i in named or _logical(reference, where, partner, record) if i not in found]
    if len(items) < 2 or len(found) < 2:
        raise ValidationError(
            "a Linkage must link at least two Patient records to say they are one person",
            location="Linkage.item",
            hint="give the surviving record as the source item and the others as alternate items",
        )
    return found


def _logical(reference: dict[str, Any], path: str, partner: str, record: str) -> list[Identifier]:
    """Identifiers from a reference that does not resolve: its `identifier`, else its id text
    (a `urn:` placeholder names no one outside its Bundle: then the record stands in)."""
    logical = reference.get("identifier")
    if isinstance(logical, dict) and logical.get("system") and logical.get("value"):
        ident = normalise_identifier(logical, f"{path}.identifier")
        return [Identifier(system=ident["system"], value=str(ident["value"]).strip())]
    text = reference.get("reference")
    if not isinstance(text, str) or not text.strip() or text.startswith("#"):
        raise ValidationError(
            "the subject reference has neither a resolvable reference nor an identifier",
            location=path,
            hint="reference the Patient by NHS number (identifier) or include it in the Bundle",
        )
    if not _names_type(reference, "Patient"):
        kind = text.split("/")[-2] if "/" in text else "an unknown type"
        raise ValidationError(
            f"the subject is {kind}, not a Patient",
            location=path,
            hint="the hub records events about people; reference the Patient",
        )
    if text.startswith("urn:"):
        return [_record_scoped(partner, record)()]
    return [Identifier(system=local_system(partner, "patient"), value=text.rstrip("/").split("/")[-1])]


def _names_type(reference: dict[str, Any], resource_type: str) -> bool:
    text = reference.get("reference")
    if reference.get("type") == resource_type:
        return True
    return isinstance(text, str) and (
        text.startswith(f"{resource_type}/") or f"/{resource_type}/" in text or text.startswith("urn:")
    )


def _contained(resource: dict[str, Any], text: str) -> dict[str, Any] | None:
    for item in resource.get("contained") or []:
        if isinstance(item, dict) and item.get("id") == text[1:]:
            return item
    return None


def _logical_id(partner: str, patient: dict[str, Any], name: str | None) -> Identifier | None:
    """The partner's logical id of a Patient (its `id`, or the id a server URL names), scoped to
    the partner; None for a Patient known only by a placeholder (`urn:uuid:`, `#contained`)."""
    own = patient.get("id")
    if not own and name and not name.startswith(("urn:", "#")):
        own = name.rstrip("/").split("/")[-1]
    return Identifier(system=local_system(partner, "patient"), value=str(own)) if own else None


def _with_logical_id(
    found: list[Identifier], partner: str, patient: dict[str, Any], name: str | None
) -> list[Identifier]:
    """The Patient's identifiers plus its logical id, so records that name it only by reference
    (`Patient/123`, as bulk data files and partners' own servers do) reach the same person."""
    own = _logical_id(partner, patient, name)
    return [*found, own] if own is not None and own not in found else found


def _local(
    partner: str, patient: dict[str, Any], name: str | None, record: str | None = None
) -> Callable[[], Identifier]:
    """The partner's own patient id as a subject identifier, for a Patient with no identifier:
    its logical id, or the id a server URL names. A Patient named only by a message-local
    placeholder (`urn:uuid:`) gets an identifier scoped to the record (`record`, else its own)."""

    def fallback() -> Identifier:
        own = _logical_id(partner, patient, name)
        if own is not None:
            return own
        if not (name or patient.get("name") or patient.get("birthDate")):
            raise ValidationError(
                "the Patient has neither an identifier nor an id, so the hub cannot tell who it is",
                location="Patient.identifier",
                hint="send the NHS number, or at least your own patient id",
            )
        return _record_scoped(partner, record or logical_key(patient, name))()

    return fallback


def _record_scoped(partner: str, record: str) -> Callable[[], Identifier]:
    """An identifier that names the person of one record only: it links that record's resends
    and updates, never another record (identity matches those on demographics)."""
    return lambda: Identifier(system=local_system(partner, RECORD_SCOPED_KIND), value=record)
