"""A checked `Vaccination` to its hub event: an Immunization (UK Core shaped) with the Patient.

Element by element as the Immunisation API maps the same columns to FHIR: UNIQUE_ID_URI|UNIQUE_ID
the identifier, VACCINATION_PROCEDURE the UK Core vaccination-procedure extension, VACCINE_PRODUCT
the vaccineCode (NullFlavor NAVU when not given), SITE_CODE the performing organisation,
LOCATION_CODE the location, DOSE_SEQUENCE protocolApplied.doseNumber, INDICATION_CODE reasonCode.
`new` and `update` give an `immunisation` event, `delete` a retraction of the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import SourceContext
from connectors.common.demographics import patient_resource
from connectors.common.fhir_sensitivity import sensitivity_of
from connectors.common.record_events import PersonEvents, RecordEvents
from connectors.vaccination_csv.record import Coded, Vaccination, Withdrawal
from schemas.envelope import HubEvent, resource_id
from schemas.event_types import EventType
from schemas.identifiers import local_system

SNOMED = "http://snomed.info/sct"
PROCEDURE_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure"
NOT_AVAILABLE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
            "code": "NAVU",
            "display": "Not available",
        }
    ]
}
_ACTION_RANK = {"new": "1", "update": "2", "delete": "3"}


def source_system(partner: str) -> str:
    """The record-id namespace of one partner's vaccination batch records."""
    return local_system(partner, "vaccination-batch")


def record_version(action: str, stamp: str | None) -> str:
    """The file's time (from its name) then the action, so a later file supersedes an earlier one and,
    within one file, update follows new and delete follows both. Without a file time: 1, 2, 3."""
    rank = _ACTION_RANK[action]
    return f"{stamp}/{rank}" if stamp else rank


def vaccination_events(
    row: Vaccination | Withdrawal, ctx: SourceContext, stamp: str | None
) -> list[HubEvent]:
    system = source_system(ctx.partner)
    action = row.action if isinstance(row, Vaccination) else "delete"
    record = RecordEvents(ctx, system, record_version(action, stamp), row.person.identifiers)
    subject = row.person.identifiers[0]
    patient = patient_resource(row.person, resource_id(system, "Patient", subject.token))
    events = PersonEvents(record, patient)
    if not isinstance(row, Vaccination):
        return [events.retraction(row.record_id, ctx.received_at)]
    immunization = _immunization(
        row, events.resource_id("Immunization", row.record_id), events.patient_reference
    )
    level = sensitivity_of([immunization])
    return [
        events.person_event(
            EventType.IMMUNISATION, row.record_id, row.occurred, [immunization], level, label_patient=True
        )
    ]


def _immunization(row: Vaccination, resource_id_: str, patient: dict[str, str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": resource_id_,
        "identifier": [{"system": row.unique_id_uri, "value": row.unique_id}],
        "status": "completed",
        "vaccineCode": _concept(row.product) or NOT_AVAILABLE,
        "patient": patient,
        "occurrenceDateTime": _fhir_datetime(row.occurred),
        "performer": [{"actor": {"type": "Organization", "identifier": _identifier(*row.site)}}],
        "location": {"identifier": _identifier(*row.location)},
    }
    if row.procedure:
        resource["extension"] = [
            {"url": PROCEDURE_EXTENSION, "valueCodeableConcept": _concept(row.procedure)}
        ]
    if row.performer:
        resource["performer"].insert(0, {"actor": {"type": "Practitioner", "display": row.performer}})
    return resource | _details(row)


def _details(row: Vaccination) -> dict[str, Any]:
    """The optional elements, each only when its cells are filled."""
    resource: dict[str, Any] = {}
    if row.recorded:
        resource["recorded"] = row.recorded.isoformat()
    if row.primary_source is not None:
        resource["primarySource"] = row.primary_source
    if row.manufacturer:
        resource["manufacturer"] = {"display": row.manufacturer}
    if row.batch:
        resource["lotNumber"] = row.batch
    if row.expiry:
        resource["expirationDate"] = row.expiry.isoformat()
    if site := _concept(row.body_site):
        resource["site"] = site
    if route := _concept(row.route):
        resource["route"] = route
    if row.dose:
        amount, unit = row.dose
        quantity: dict[str, Any] = {"value": float(amount)}
        if unit:
            quantity |= {"system": SNOMED, "code": unit.code} | ({"unit": unit.term} if unit.term else {})
        resource["doseQuantity"] = quantity
    if row.indication:
        resource["reasonCode"] = [{"coding": [{"system": SNOMED, "code": row.indication}]}]
    if row.dose_sequence is not None:
        resource["protocolApplied"] = [{"doseNumberPositiveInt": row.dose_sequence}]
    return resource


def _concept(coded: Coded | None) -> dict[str, Any] | None:
    if coded is None:
        return None
    coding = {"system": SNOMED, "code": coded.code}
    return {"coding": [coding | {"display": coded.term}]} if coded.term else {"coding": [coding]}


def _identifier(value: str, system: str) -> dict[str, str]:
    return {"system": system, "value": value}


def _fhir_datetime(moment: datetime) -> str:
    return moment.isoformat()
