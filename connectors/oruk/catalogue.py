"""One ORUK record (a service, an organisation, a location, a taxonomy term) to catalogue entries.

Follows the HSDS 3.0 UK profile, and reads the older ORUK v1 names where they differ
(`eligibilitys`, `service_taxonomys`, `physical_addresses`, `vocabulary`). A record is checked
whole: a wrong age, an unknown status or an impossible date rejects that record with the path of
the field; a coordinate outside the globe, a malformed e-mail or URL (connectors/oruk/formats.py)
is only dropped with a warning, since the service is still worth routing to. The API's details
document (`GET /`) is refused: it is not a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from connectors.common.demographics import normal_postcode
from connectors.oruk import formats
from connectors.oruk.nodes import Node
from schemas.directory import (
    MAX_AGE,
    Location,
    LocationType,
    Organisation,
    OrganisationIdentifier,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyCode,
    Tier,
)
from schemas.errors import MappingError

STATUSES: dict[str, ServiceStatus] = {status: status for status in get_args(ServiceStatus)}
LOCATION_TYPES: dict[str, LocationType] = {kind: kind for kind in get_args(LocationType)}
SERVICE_KEYS = (
    "status",
    "organization",
    "organization_id",
    "service_at_locations",
    "minimum_age",
    "maximum_age",
    "eligibilitys",
    "eligibilities",
    "service_taxonomys",
)
LOCATION_KEYS = ("location_type", "latitude", "longitude", "addresses", "physical_addresses")
ORGANISATION_KEYS = ("services", "website", "logo", "organization_identifiers", "parent_organization_id")
_SEND = re.compile(r"\bsend\b|special educational need|disabilit|\bdisabled\b|\bsen\b", re.IGNORECASE)
_TIER_VOCABULARY = re.compile(r"tier|level of (need|support)", re.IGNORECASE)
_TIERS: tuple[Tier, ...] = get_args(Tier)


Kind = Literal["service", "organisation", "location"]


@dataclass
class Parts:
    """What one record adds to the catalogue, plus warnings (location, reason) about dropped values."""

    services: list[Service] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    terms: dict[str, TaxonomyCode] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    where: dict[tuple[Kind, str], str] = field(default_factory=dict)
    """Where each service and location was read (JSON path or CSV row), for checks to point at."""


def read_record(node: Node, kind: Kind | None = None) -> Parts:
    """Catalogue entries of one record, whichever ORUK list or detail form it comes from; `kind`
    says what the record is when its source knows (a CSV table), else its fields tell."""
    parts = Parts()
    service, location = node.child("service"), node.child("location")
    if kind is None and service is not None and location is not None:  # a service_at_location detail
        parts.services.append(_service(service, parts, extra_location=(node, location)))
    elif kind == "service" or (kind is None and node.has(*SERVICE_KEYS)):
        parts.services.append(_service(node, parts))
    elif kind == "organisation" or (
        kind is None and ("services" in node.data or node.has(*ORGANISATION_KEYS))
    ):
        parts.organisations.append(_organisation(node, parts))
    elif kind == "location" or (kind is None and node.has(*LOCATION_KEYS)):
        parts.locations.append(_location(node, parts))
    elif kind is None and node.has("openapi_url") and not node.has("id"):
        raise MappingError(
            "this is the API's details document (GET /: version, profile, openapi_url), not a "
            "directory record; it holds nothing to import",
            node.path,
            hint="import the /services, /organizations and /taxonomies pages, or the HSDS CSV tables",
        )
    elif node.has("taxonomy_terms", "version"):  # a taxonomy (vocabulary), with its terms when nested
        uri = formats.link(node, parts.warnings, "uri")
        for term in node.children("taxonomy_terms"):
            _term(term, parts, node.text("name"), uri)
    elif node.has("term", "parent_id", "taxonomy", "vocabulary", "code"):
        _term(node, parts, None)
    else:
        raise MappingError(
            "this is not a service, organisation, location or taxonomy record",
            node.path,
            hint="send ORUK service, organization, location or service_at_location objects",
        )
    return parts


def _organisation(node: Node, parts: Parts) -> Organisation:
    return Organisation(
        id=node.required("id"),
        name=node.required("name"),
        description=node.text("description"),
        website=formats.link(node, parts.warnings, "website", "url"),
        email=formats.email(node, "email", parts.warnings),
        parent_id=node.text("parent_organization_id"),
        identifiers=tuple(
            OrganisationIdentifier(
                scheme=item.required("identifier_scheme"), value=item.required("identifier")
            )
            for item in node.children("organization_identifiers")
        ),
    )


def _location(node: Node, parts: Parts) -> Location:
    parts.where.setdefault(("location", node.required("id")), node.path)
    addresses = node.children("addresses", "physical_addresses", "postal_addresses")
    address = addresses[0] if addresses else None
    latitude, longitude = node.number("latitude"), node.number("longitude")
    if (latitude is not None and not -90 <= latitude <= 90) or (
        longitude is not None and not -180 <= longitude <= 180
    ):
        parts.warnings.append(
            (node.at("latitude"), "the coordinates are outside the globe; position left out")
        )
        latitude = longitude = None
    uprn = (
        node.text("external_identifier")
        if (node.text("external_identifier_type") or "").upper() == "UPRN"
        else None
    )
    postcode = address.text("postal_code", "postcode") if address else None
    return Location(
        id=node.required("id"),
        name=node.text("name"),
        description=node.text("description"),
        location_type=LOCATION_TYPES[node.choice("location_type", LOCATION_TYPES) or "physical"],
        address_lines=tuple(
            line for line in (address.text(key) for key in ("address_1", "address_2")) if line
        )
        if address
        else (),
        city=address.text("city") if address else None,
        region=address.text("region", "state_province") if address else None,
        postcode=normal_postcode(postcode) if postcode else None,
        country=address.text("country") if address else None,
        latitude=latitude,
        longitude=longitude,
        uprn=uprn,
    )


def _term(node: Node, parts: Parts, vocabulary: str | None, taxonomy_uri: str | None = None) -> TaxonomyCode:
    formats.check_term(node, parts.warnings, taxonomy_uri)
    term = TaxonomyCode(
        code=node.text("code") or node.required("id"),
        name=node.text("name", "term"),
        vocabulary=node.text("taxonomy", "vocabulary") or vocabulary,
    )
    parts.terms[node.required("id")] = term
    return term


def _service(node: Node, parts: Parts, extra_location: tuple[Node, Node] | None = None) -> Service:
    organisation = node.child("organization")
    organisation_id = node.text("organization_id")
    if organisation is not None:
        parts.organisations.append(_organisation(organisation, parts))
        organisation_id = parts.organisations[-1].id
    links = [(link, link.child("location")) for link in node.children("service_at_locations")]
    if extra_location is not None:
        links.append(extra_location)
    locations: list[ServiceAtLocation] = []
    for link, location in links:
        location_id = link.text("location_id")
        if location is not None:
            parts.locations.append(_location(location, parts))
            location_id = parts.locations[-1].id
        if location_id is None:
            raise MappingError(
                "the service_at_location names no location", link.path, hint="add location or location_id"
            )
        locations.append(ServiceAtLocation(id=link.text("id") or location_id, location_id=location_id))
    terms = _service_terms(node, parts)
    parts.where.setdefault(("service", node.required("id")), node.path)
    eligibility = node.children("eligibilities", "eligibility", "eligibilitys")
    min_age, max_age = _ages(node, eligibility)
    eligibility_text = " ".join(item.text("eligibility", "description") or "" for item in eligibility)
    return Service(
        id=node.required("id"),
        name=node.required("name"),
        status=STATUSES[node.choice("status", STATUSES) or "active"],
        description=node.text("description"),
        organisation_id=organisation_id,
        url=formats.link(node, parts.warnings, "url"),
        email=formats.email(node, "email", parts.warnings),
        taxonomy=tuple(terms),
        min_age=min_age,
        max_age=max_age,
        send=any(_SEND.search(f"{t.name or ''} {t.code}") for t in terms)
        or bool(_SEND.search(eligibility_text)),
        tier=_tier(terms),
        capacity_per_week=_weekly_places(node),
        locations=tuple(locations),
        last_modified=node.moment("last_modified"),
    )


def _service_terms(node: Node, parts: Parts) -> list[TaxonomyCode]:
    """Terms linked by HSDS 3.0 `attributes`, a nested `taxonomy_terms` list, or v1 `service_taxonomys`."""
    terms = [_term(term, parts, None) for term in node.children("taxonomy_terms")]
    for link in node.children("attributes"):
        if (term := link.child("taxonomy_term")) is not None:
            terms.append(_term(term, parts, None))
    for link in node.children("service_taxonomys"):
        if (term := link.child("taxonomy")) is not None:
            terms.append(_term(term, parts, None))
    return terms


def _ages(node: Node, eligibility: list[Node]) -> tuple[int | None, int | None]:
    """The service's own age range (HSDS 3.0), else the widest range of its eligibility entries."""
    min_age, max_age = node.age("minimum_age", MAX_AGE), node.age("maximum_age", MAX_AGE)
    where = node.at("maximum_age")
    if min_age is None and max_age is None and eligibility:
        mins = [item.age("minimum_age", MAX_AGE) for item in eligibility]
        maxes = [item.age("maximum_age", MAX_AGE) for item in eligibility]
        min_age = None if None in mins else min(m for m in mins if m is not None)
        max_age = None if None in maxes else max(m for m in maxes if m is not None)
        where = eligibility[0].at("maximum_age")
    if min_age is not None and max_age is not None and max_age < min_age:
        raise MappingError("the maximum age is below the minimum age", where, hint="check both ages")
    return min_age, max_age


WEEKLY_PLACES = "places per week"
"""The unit name (HSDS `service_capacity.unit.name`) of a capacity routing counts: HSDS units have no
period of their own, so a directory says it counts weekly places by naming its unit so."""


def _weekly_places(node: Node) -> int | None:
    """The `maximum` (else `available`) of the service's `capacities` entry in places per week."""
    for item in node.children("capacities"):
        unit = item.child("unit")
        if unit is None or (unit.text("name") or "").strip().lower() != WEEKLY_PLACES:
            continue
        key = "maximum" if item.has("maximum") else "available"
        value = item.number(key)
        if value is None or not value.is_integer() or value < 0:
            raise MappingError(
                "the weekly places are not a whole number of 0 or more",
                item.at(key),
                hint="give the places per week as a whole number",
            )
        return int(value)
    return None


def _tier(terms: list[TaxonomyCode]) -> Tier | None:
    """Universal, targeted or specialist, from a term of a tier / level-of-need vocabulary."""
    for term in terms:
        if _TIER_VOCABULARY.search(f"{term.vocabulary or ''} {term.name or ''}"):
            words = f"{term.name or ''} {term.code}".lower()
            for tier in _TIERS:
                if tier in words:
                    return tier
    return None
