"""The service catalogue referral routing reads: organisations, locations and the services they run.

Filled from Open Referral UK (HSDS 3.0 UK profile) feeds by `connectors.oruk`, and published as
FHIR HealthcareService / Organization / Location resources on the compacted `fh.directory` topic
(`DirectoryResource`, keyed `ResourceType/id`: the latest version of each resource is kept). The
catalogue is not a person event: it says what help exists, for whom (ages, SEND) and where.
Ids are the publisher's ORUK ids, so routing rules and the directory name services alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

ServiceStatus = Literal["active", "inactive", "defunct", "temporarily closed"]
LocationType = Literal["physical", "postal", "virtual"]
Tier = Literal["universal", "targeted", "specialist"]
MAX_AGE = 130


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class TaxonomyCode(_Frozen):
    """A taxonomy term a service is classified by (e.g. LGA service list, OpenActive activity)."""

    code: str = Field(min_length=1, description="The term's code, or its id when it has no code.")
    name: str | None = None
    vocabulary: str | None = Field(default=None, description="The taxonomy the term belongs to.")


class OrganisationIdentifier(_Frozen):
    """A registered number of an organisation; `scheme` is an org-id.guide prefix (GB-CHC, GB-COH)."""

    scheme: str
    value: str


class Organisation(_Frozen):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = None
    website: str | None = None
    email: str | None = None
    parent_id: str | None = None
    identifiers: tuple[OrganisationIdentifier, ...] = ()


class Location(_Frozen):
    id: str = Field(min_length=1)
    name: str | None = None
    description: str | None = None
    location_type: LocationType = "physical"
    address_lines: tuple[str, ...] = ()
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    uprn: str | None = Field(default=None, description="Unique Property Reference Number, when given.")


class ServiceAtLocation(_Frozen):
    """Where a service is delivered: ORUK's service_at_location link."""

    id: str = Field(min_length=1)
    location_id: str = Field(min_length=1)


class Service(_Frozen):
    """What referral routing matches a family's need against."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    status: ServiceStatus = "active"
    description: str | None = None
    organisation_id: str | None = None
    url: str | None = None
    email: str | None = None
    taxonomy: tuple[TaxonomyCode, ...] = ()
    min_age: int | None = Field(default=None, ge=0, le=MAX_AGE, description="Youngest age served, years.")
    max_age: int | None = Field(default=None, ge=0, le=MAX_AGE, description="Oldest age served, years.")
    send: bool = Field(default=False, description="Marked by the directory as a SEND service.")
    tier: Tier | None = Field(default=None, description="Level of need served, when the directory says.")
    capacity_per_week: int | None = Field(
        default=None,
        ge=0,
        description="Places per week, from an HSDS `capacities` entry whose unit is `places per week`.",
    )
    locations: tuple[ServiceAtLocation, ...] = ()
    last_modified: datetime | None = None

    @model_validator(mode="after")
    def _age_order(self) -> Service:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age is above max_age")
        return self

    def serves_age(self, age: int) -> bool:
        """True when a person of `age` years is inside the service's age range."""
        return (self.min_age is None or age >= self.min_age) and (self.max_age is None or age <= self.max_age)


class ServiceCatalogue(_Frozen):
    """Everything one directory import holds, by ORUK id."""

    organisations: dict[str, Organisation] = Field(default_factory=dict)
    locations: dict[str, Location] = Field(default_factory=dict)
    services: dict[str, Service] = Field(default_factory=dict)
    taxonomy_terms: dict[str, TaxonomyCode] = Field(default_factory=dict)


class DirectoryResource(_Frozen):
    """One message of `fh.directory`: a validated FHIR resource and its compaction key."""

    key: str = Field(pattern=r"^(HealthcareService|Organization|Location)/[A-Za-z0-9\-.]{1,64}$")
    resource: dict[str, Any]

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.resource)
