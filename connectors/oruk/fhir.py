"""Catalogue entries as FHIR R4 Organization, Location and HealthcareService for `fh.directory`.

Resource ids are deterministic UUIDs of the ORUK id (`resource_id("oruk", type, id)`): ORUK ids
may be any text, FHIR ids may not. The ORUK id stays in `identifier`, so either can be looked up.
References between directory resources are relative (`Location/<id>`), as the topic's key is.
"""

from __future__ import annotations

from typing import Any

from connectors.common.fhir_validation import validate_resource
from schemas.directory import DirectoryResource, Location, Organisation, Service
from schemas.envelope import EXT, resource_id
from schemas.identifiers import HUB_CODE_SYSTEMS

ORUK_ID = "https://hubnet.example.org/Id/oruk/"
ORG_ID_GUIDE = "https://org-id.guide/list/"
UPRN_SYSTEM = "https://hubnet.example.org/Id/uprn"
TAXONOMY_SYSTEM = HUB_CODE_SYSTEMS + "oruk-taxonomy"
DIRECTORY_SYSTEM = HUB_CODE_SYSTEMS + "directory-characteristic"
EXT_AGE_RANGE = EXT + "eligible-age-range"


def fhir_id(resource_type: str, oruk_id: str) -> str:
    return resource_id("oruk", resource_type, oruk_id)


def _reference(resource_type: str, oruk_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{fhir_id(resource_type, oruk_id)}"}


def _telecom(email: str | None, url: str | None) -> list[dict[str, str]]:
    return [{"system": system, "value": value} for system, value in (("email", email), ("url", url)) if value]


def _keyed(resource: dict[str, Any]) -> DirectoryResource:
    """Validate once, here, and key the resource for the compacted topic."""
    validate_resource(resource)
    return DirectoryResource(key=f"{resource['resourceType']}/{resource['id']}", resource=resource)


def organisation_resource(organisation: Organisation) -> DirectoryResource:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": fhir_id("Organization", organisation.id),
        "identifier": [{"system": ORUK_ID + "organization", "value": organisation.id}]
        + [
            {"system": ORG_ID_GUIDE + ident.scheme, "value": ident.value}
            for ident in organisation.identifiers
        ],
        "active": True,
        "name": organisation.name,
    }
    if telecom := _telecom(organisation.email, organisation.website):
        resource["telecom"] = telecom
    if organisation.parent_id:
        resource["partOf"] = _reference("Organization", organisation.parent_id)
    return _keyed(resource)


def location_resource(location: Location) -> DirectoryResource:
    identifiers = [{"system": ORUK_ID + "location", "value": location.id}]
    if location.uprn:
        identifiers.append({"system": UPRN_SYSTEM, "value": location.uprn})
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": fhir_id("Location", location.id),
        "identifier": identifiers,
        "status": "active",
        "mode": "instance",
    }
    if location.name:
        resource["name"] = location.name
    if location.description:
        resource["description"] = location.description
    address = {
        key: value
        for key, value in (
            ("line", list(location.address_lines)),
            ("city", location.city),
            ("district", location.region),
            ("postalCode", location.postcode),
            ("country", location.country),
        )
        if value
    }
    if address:
        resource["address"] = address
    if location.latitude is not None and location.longitude is not None:
        resource["position"] = {"latitude": location.latitude, "longitude": location.longitude}
    return _keyed(resource)


def service_resource(service: Service) -> DirectoryResource:
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": fhir_id("HealthcareService", service.id),
        "identifier": [{"system": ORUK_ID + "service", "value": service.id}],
        "active": service.status == "active",
        "name": service.name,
    }
    if service.last_modified:
        resource["meta"] = {"lastUpdated": service.last_modified.isoformat()}
    if service.organisation_id:
        resource["providedBy"] = _reference("Organization", service.organisation_id)
    if service.description:
        resource["comment"] = service.description
    if service.taxonomy:
        resource["type"] = [
            {"coding": [_coding(term.vocabulary, term.code, term.name)]} for term in service.taxonomy
        ]
    if service.locations:
        resource["location"] = [_reference("Location", link.location_id) for link in service.locations]
    if telecom := _telecom(service.email, service.url):
        resource["telecom"] = telecom
    characteristics = [("send", "Special educational needs and disabilities")] if service.send else []
    if service.tier:
        characteristics.append((f"tier-{service.tier}", f"{service.tier.title()} service"))
    if characteristics:
        resource["characteristic"] = [
            {"coding": [{"system": DIRECTORY_SYSTEM, "code": code, "display": display}]}
            for code, display in characteristics
        ]
    if service.min_age is not None or service.max_age is not None:
        resource["extension"] = [{"url": EXT_AGE_RANGE, "valueRange": _age_range(service)}]
        resource["eligibility"] = [{"comment": _age_text(service)}]
    return _keyed(resource)


def _coding(vocabulary: str | None, code: str, display: str | None) -> dict[str, str]:
    slug = "".join(ch if ch.isalnum() else "-" for ch in vocabulary.lower()).strip("-") if vocabulary else ""
    coding = {"system": f"{TAXONOMY_SYSTEM}/{slug}" if slug else TAXONOMY_SYSTEM, "code": code}
    if display:
        coding["display"] = display
    return coding


def _age_range(service: Service) -> dict[str, Any]:
    def years(value: int) -> dict[str, Any]:
        return {"value": value, "unit": "years", "system": "http://unitsofmeasure.org", "code": "a"}

    age_range: dict[str, Any] = {}
    if service.min_age is not None:
        age_range["low"] = years(service.min_age)
    if service.max_age is not None:
        age_range["high"] = years(service.max_age)
    return age_range


def _age_text(service: Service) -> str:
    if service.min_age is not None and service.max_age is not None:
        return f"Ages {service.min_age} to {service.max_age}"
    if service.min_age is not None:
        return f"Ages {service.min_age} and over"
    return f"Ages up to {service.max_age}"
