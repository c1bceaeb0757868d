"""HSDS / ORUK CSV tables joined into the nested JSON form, so one mapper reads both.

HSDS publishes a directory as one CSV table per object (services.csv, organizations.csv,
locations.csv, service_at_location.csv, ...), joined by id columns. This module nests each service's own rows
(links, terms, eligibility) into a service object shaped like the API's `service` detail, and
leaves organisations and locations as records of their own. Every object remembers its row under
`WHERE`, so errors point at `services.csv line 4, column minimum_age`. Tables hubnet does not
use (schedules, phones, funding, ...) are ignored; older ORUK v1 table names are accepted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from connectors.common.csv_records import read_row, split_csv
from connectors.oruk.catalogue import Kind
from connectors.oruk.nodes import WHERE
from schemas.errors import MappingError

Row = dict[str, Any]
TABLE_NAMES: dict[str, str] = {
    "services": "services",
    "service": "services",
    "organizations": "organizations",
    "organization": "organizations",
    "organisations": "organizations",
    "organization_identifiers": "organization_identifiers",
    "locations": "locations",
    "location": "locations",
    "addresses": "addresses",
    "address": "addresses",
    "physical_addresses": "addresses",
    "service_at_location": "service_at_locations",
    "service_at_locations": "service_at_locations",
    "taxonomy_terms": "taxonomy_terms",
    "taxonomy_term": "taxonomy_terms",
    "taxonomies": "taxonomies",
    "taxonomy": "taxonomies",
    "attributes": "attributes",
    "attribute": "attributes",
    "eligibility": "eligibilities",
    "eligibilitys": "eligibilities",
    "eligibilities": "eligibilities",
    "service_taxonomy": "service_taxonomies",
    "service_taxonomys": "service_taxonomies",
}
"""File stem (lower case) -> the table it holds; HSDS 3.0 names, then ORUK v1 names."""
MAIN_TABLES = ("services", "organizations", "locations")


class Tables:
    """Rows of each known table, plus the rows that could not be read (location, reason, bytes)."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.rows: dict[str, list[Row]] = defaultdict(list)
        self.unreadable: list[tuple[MappingError, bytes, str]] = []
        for file_name, data in sorted(files.items()):
            table = TABLE_NAMES.get(PurePath(file_name).stem.lower())
            if table is not None:
                self._read(PurePath(file_name).name, table, data)

    def _read(self, file_name: str, table: str, data: bytes) -> None:
        try:
            records = list(split_csv(data))
        except MappingError as error:
            self.unreadable.append((_in_file(error, file_name), data, file_name))
            return
        for record in records:
            try:
                row = read_row(record)
            except MappingError as error:
                self.unreadable.append((_in_file(error, file_name), record.raw, f"{file_name} {record.ref}"))
                continue
            self.rows[table].append({**row.cells, WHERE: f"{file_name} line {row.line}"})

    def by(self, table: str, column: str) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = defaultdict(list)
        for row in self.rows[table]:
            if key := str(row.get(column) or "").strip():
                grouped[key].append(row)
        return grouped

    def index(self, table: str) -> dict[str, Row]:
        return {key: rows[-1] for key, rows in self.by(table, "id").items()}


def _in_file(error: MappingError, file_name: str) -> MappingError:
    return MappingError(error.reason, f"{file_name} {error.location or ''}".strip(), error.hint)


def assemble(tables: Tables) -> list[tuple[Kind, Row]]:
    """Records to import: each service with its own rows nested (service_at_location links,
    taxonomy terms, eligibility), then every organisation and location on its own. Services name
    those by id only, so a bad organisation row is rejected once, at its own row, and a bad
    service row never takes its organisation or locations with it."""
    if not any(tables.rows[name] for name in MAIN_TABLES):
        raise MappingError(
            "none of services.csv, organizations.csv or locations.csv is among the tables",
            hint="send the HSDS tables (at least services.csv) together, e.g. zipped",
        )
    identifiers = tables.by("organization_identifiers", "organization_id")
    addresses = tables.by("addresses", "location_id")
    terms = _terms(tables)
    attributes = tables.by("attributes", "link_id")
    eligibility = tables.by("eligibilities", "service_id")
    service_taxonomies = tables.by("service_taxonomies", "service_id")
    links = tables.by("service_at_locations", "service_id")
    records: list[tuple[Kind, Row]] = []
    for row in tables.rows["services"]:
        service_id = _id(row)
        records.append(
            (
                "service",
                {
                    **row,
                    "service_at_locations": links.get(service_id, []),
                    "attributes": [
                        {WHERE: link[WHERE], "taxonomy_term": terms[link["taxonomy_term_id"]]}
                        for link in attributes.get(service_id, [])
                        if link.get("taxonomy_term_id") in terms
                    ],
                    "service_taxonomys": [
                        {WHERE: link[WHERE], "taxonomy": terms[link["taxonomy_id"]]}
                        for link in service_taxonomies.get(service_id, [])
                        if link.get("taxonomy_id") in terms
                    ],
                    "eligibilities": eligibility.get(service_id, []),
                },
            )
        )
    records += [
        ("organisation", {**row, "organization_identifiers": identifiers.get(_id(row), [])})
        for row in tables.rows["organizations"]
    ]
    records += [
        ("location", {**row, "addresses": addresses.get(_id(row), [])}) for row in tables.rows["locations"]
    ]
    return records


def _id(row: Row) -> str:
    return str(row.get("id") or "").strip()


def _terms(tables: Tables) -> dict[str, Row]:
    """Taxonomy terms by id, each naming its vocabulary. HSDS 3.0 keeps terms in taxonomy_terms.csv
    and vocabularies in taxonomies.csv; ORUK v1 kept terms (with `vocabulary`) in taxonomies.csv."""
    vocabularies = {key: row.get("name") for key, row in tables.index("taxonomies").items()}
    terms = {key: row for key, row in tables.index("taxonomies").items() if row.get("vocabulary")}
    for key, row in tables.index("taxonomy_terms").items():
        if not row.get("taxonomy") and row.get("taxonomy_id") in vocabularies:
            row["taxonomy"] = vocabularies[row["taxonomy_id"]]
        terms[key] = row
    return terms
