"""Connectors by format name, loaded on first use so a command pays only for the formats it uses.

The CLI (`hubnet convert`), the ingest API (`/v1/events/{format}`) and the file drop all look
connectors up here. To add a format: write `connectors/<format>/connector.py` and add one line.
"""

from __future__ import annotations

import importlib
from functools import cache

from connectors.base import Connector
from schemas.errors import HubnetError

_CONNECTORS: dict[str, str] = {
    # format name: "module:ConnectorClass", one line per format, kept in alphabetical order
    "attendance-csv": "connectors.education.connector:AttendanceCsvConnector",
    "bloodspot-csv": "connectors.bloodspot_csv.connector:BloodspotCsvConnector",
    "cin-census": "connectors.social_care.connector:CinCensusConnector",
    "csc-events": "connectors.social_care.connector:CscEventsConnector",
    "ctf": "connectors.education.connector:CtfConnector",
    "fhir": "connectors.fhir.connector:FhirConnector",
    "hl7v2": "connectors.hl7v2.connector:Hl7v2Connector",
    "hv-csv": "connectors.hv_csv.connector:HvCsvConnector",
    "ndjson": "connectors.ndjson.connector:NdjsonConnector",
    "nems": "connectors.nems.connector:NemsConnector",
    "ssda903": "connectors.social_care.connector:Ssda903Connector",
    "vaccination-csv": "connectors.vaccination_csv.connector:VaccinationCsvConnector",
    "vcs-csv": "connectors.vcs.connector:VcsCsvConnector",
    "vcs-json": "connectors.vcs.connector:VcsJsonConnector",
}


class UnknownFormatError(HubnetError):
    """The format name is not one hubnet has a connector for."""


def formats() -> list[str]:
    return sorted(_CONNECTORS)


@cache
def get(name: str) -> Connector:
    """The connector for a format name; the error lists the formats there are."""
    try:
        target = _CONNECTORS[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format '{name}'; known formats: {', '.join(formats()) or 'none'}"
        ) from None
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    connector: Connector = cls()
    return connector
