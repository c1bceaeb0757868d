"""`load_directory`: Open Referral UK bytes in, service catalogue and `fh.directory` resources out.

This is the directory's own interface, not a `Connector`: a directory entry is not a person
event, so it has no subject and no `HubEvent`. It is pure (bytes in, values out, no Kafka); the
caller publishes `DirectoryImport.resources` keyed by `DirectoryResource.key` on the compacted
`fh.directory` topic and dead-letters `rejections` as every connector does. Accepted input:

- JSON, any ORUK form: one object (service, organization with `services`, service_at_location,
  location, taxonomy), an array of them, or an API page `{"contents": [...], "total_items": ...}`;
- a zip of HSDS CSV tables (services.csv, organizations.csv, locations.csv, ...), or the tables
  themselves through `load_tables`.

Each record is checked whole and on its own: a bad record becomes one `Rejection` (its JSON on its
own, replayable through `load_directory`, with the field's path and reason) and never stops the
others. A record repeated (the same service in a service list and in a service_at_location list)
merges by ORUK id: its fields from the last one read, its locations and taxonomy terms from all.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pydantic
import structlog
from pydantic import BaseModel

from connectors.base import Record, Rejection
from connectors.common.problems import element_path, plain_reason, problems_reason
from connectors.common.values import parse_json
from connectors.oruk.catalogue import Kind, Parts, read_record
from connectors.oruk.fhir import location_resource, organisation_resource, service_resource
from connectors.oruk.nodes import WHERE, Node, plain
from connectors.oruk.tables import Tables, assemble
from schemas.directory import DirectoryResource, Service, ServiceCatalogue
from schemas.errors import MappingError, Problem

log = structlog.get_logger(__name__)
ORUK_HINT = "send ORUK JSON (a service, a list page) or the HSDS CSV tables zipped"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class DirectoryWarning:
    """A value left out of an accepted record (coordinates off the globe, a link to nothing)."""

    location: str
    reason: str


@dataclass(frozen=True)
class DirectoryImport:
    """The outcome of one import: what routing reads, what the topic gets, and what was refused."""

    catalogue: ServiceCatalogue
    resources: tuple[DirectoryResource, ...]
    rejections: tuple[Rejection, ...]
    warnings: tuple[DirectoryWarning, ...]
    where: Mapping[tuple[Kind, str], str] = field(default_factory=dict)
    """Where each service and location was first read (`$.contents[2]`, `services.csv line 4`)."""

    @property
    def services(self) -> list[Service]:
        return list(self.catalogue.services.values())


def load_directory(data: bytes) -> DirectoryImport:
    """Import ORUK JSON, or a zip of HSDS CSV tables; never raises for bad input."""
    if data.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                files = {
                    name: archive.read(name) for name in archive.namelist() if name.lower().endswith(".csv")
                }
        except (zipfile.BadZipFile, OSError):
            return _refused(data, MappingError("the zip file cannot be opened", hint="send a complete zip"))
        return load_tables(files, original=data)
    try:
        body = parse_json(
            data, "the input is neither well-formed JSON nor a zip of CSV tables", hint=ORUK_HINT
        )
    except MappingError as error:
        return _refused(data, error)
    return _import(((item, path, None) for item, path in _json_records(body)), [])


def load_tables(files: Mapping[str, bytes], original: bytes = b"") -> DirectoryImport:
    """Import HSDS CSV tables given by file name (`services.csv` -> its bytes); `original` is what
    a refusal of the whole set keeps (the zip as received)."""
    tables = Tables(files)
    rejections = [
        Rejection.from_error(error, Record(raw=raw, ref=ref)) for error, raw, ref in tables.unreadable
    ]
    try:
        records = assemble(tables)
    except MappingError as error:
        return _refused(original, error, rejections)
    return _import(((row, str(row[WHERE]), kind) for kind, row in records), rejections)


def _json_records(body: Any) -> Iterator[tuple[Any, str]]:
    """Records of a JSON body with their paths; an organisation's nested services are records of
    their own (`$.services[2]`), so one bad service does not refuse its organisation."""
    if isinstance(body, dict) and isinstance(body.get("contents"), list):
        items: list[tuple[Any, str]] = [(item, f"$.contents[{i}]") for i, item in enumerate(body["contents"])]
    elif isinstance(body, list):
        items = [(item, f"$[{i}]") for i, item in enumerate(body)]
    else:
        items = [(body, "$")]
    for item, path in items:
        nested = item.get("services") if isinstance(item, dict) else None
        if not isinstance(nested, list) or "status" in item:
            yield item, path
            continue
        yield {**item, "services": []}, path
        for i, service in enumerate(nested):
            owned = isinstance(service, dict) and not service.get("organization_id")
            yield (
                ({**service, "organization_id": item.get("id")} if owned else service),
                f"{path}.services[{i}]",
            )


def _import(records: Iterator[tuple[Any, str, Kind | None]], rejections: list[Rejection]) -> DirectoryImport:
    builder = _Builder()
    for data, path, kind in records:
        try:
            builder.add(read_record(Node.of(data, path), kind))
        except MappingError as error:
            rejections.append(Rejection.from_error(error, Record(raw=orjson.dumps(plain(data)), ref=path)))
        except pydantic.ValidationError as error:  # a catalogue rule the field checks did not catch
            broken = problems_reason(
                [Problem(element_path("", e["loc"]) or "record", plain_reason(e)) for e in error.errors()]
            )
            reason = MappingError(f"the record breaks a catalogue rule: {broken}", path)
            rejections.append(Rejection.from_error(reason, Record(raw=orjson.dumps(plain(data)), ref=path)))
    catalogue = builder.catalogue()
    resources = _resources(catalogue, rejections)
    warnings = builder.warnings + _dangling(catalogue)
    log.info(
        "directory.imported",
        services=len(catalogue.services),
        organisations=len(catalogue.organisations),
        locations=len(catalogue.locations),
        rejections=len(rejections),
        warnings=len(warnings),
    )
    return DirectoryImport(catalogue, tuple(resources), tuple(rejections), tuple(warnings), builder.where)


def _resources(catalogue: ServiceCatalogue, rejections: list[Rejection]) -> list[DirectoryResource]:
    """FHIR resources of the catalogue; one failing FHIR validation (a hubnet mapping fault, as
    fields are checked before) becomes a rejection carrying the catalogue entry as JSON."""
    entries: list[tuple[str, BaseModel, Callable[[Any], DirectoryResource]]] = [
        *(("organization", o, organisation_resource) for o in catalogue.organisations.values()),
        *(("location", location, location_resource) for location in catalogue.locations.values()),
        *(("service", s, service_resource) for s in catalogue.services.values()),
    ]
    resources: list[DirectoryResource] = []
    for kind, entry, build in entries:
        try:
            resources.append(build(entry))
        except MappingError as error:
            raw = entry.model_dump_json().encode()
            rejections.append(
                Rejection.from_error(error, Record(raw=raw, ref=f"{kind} {getattr(entry, 'id', '')}"))
            )
    return resources


def _refused(data: bytes, error: MappingError, rejections: list[Rejection] | None = None) -> DirectoryImport:
    rejections = [*(rejections or []), Rejection.from_error(error, Record(raw=data))]
    return DirectoryImport(ServiceCatalogue(), (), tuple(rejections), ())


def _dangling(catalogue: ServiceCatalogue) -> list[DirectoryWarning]:
    """Links to organisations or locations this import does not hold: kept, but worth a look."""
    warnings = [
        DirectoryWarning(f"service {s.id}", f"its organisation {s.organisation_id} is not in this import")
        for s in catalogue.services.values()
        if s.organisation_id and s.organisation_id not in catalogue.organisations
    ]
    warnings += [
        DirectoryWarning(f"service {s.id}", f"its location {link.location_id} is not in this import")
        for s in catalogue.services.values()
        for link in s.locations
        if link.location_id not in catalogue.locations
    ]
    return warnings


class _Builder:
    """Merges records into one catalogue by ORUK id (see the module docstring for the rule)."""

    def __init__(self) -> None:
        self.parts = Parts()
        self.services: dict[str, Service] = {}
        self.warnings: list[DirectoryWarning] = []
        self.where: dict[tuple[Kind, str], str] = {}

    def add(self, parts: Parts) -> None:
        self.parts.organisations += parts.organisations
        self.parts.locations += parts.locations
        self.parts.terms.update(parts.terms)
        self.where = {**parts.where, **self.where}  # first read wins
        self.warnings += [DirectoryWarning(location, reason) for location, reason in parts.warnings]
        for service in parts.services:
            earlier = self.services.get(service.id)
            self.services[service.id] = service if earlier is None else _merge(earlier, service)

    def catalogue(self) -> ServiceCatalogue:
        return ServiceCatalogue(
            organisations={o.id: o for o in self.parts.organisations},
            locations={location.id: location for location in self.parts.locations},
            services=self.services,
            taxonomy_terms=self.parts.terms,
        )


def _merge(earlier: Service, later: Service) -> Service:
    """The later service's fields, with the locations and taxonomy terms of both."""
    links = {link.location_id: link for link in earlier.locations + later.locations}
    terms = dict.fromkeys(earlier.taxonomy + later.taxonomy)
    return later.model_copy(update={"locations": tuple(links.values()), "taxonomy": tuple(terms)})
