"""Hand-made hub events for identity tests: synthetic people only, NHS numbers from the test range."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.envelope import Entry, HubEvent, Identifier, resource_id
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, NHS_NUMBER_VERIFICATION_EXTENSION, local_system, nhs_check_digit


def nhs(serial: int) -> str:
    """A valid test-range NHS number (999 ...): the first issuable one from this serial on."""
    while (check := nhs_check_digit(f"999{serial:06d}")) is None:
        serial += 1
    return f"999{serial:06d}{check}"


def person(
    given: str = "",
    family: str = "",
    born: str = "",
    sex: str = "",
    postcode: str = "",
    *,
    nhs_number: str = "",
    verified: bool = False,
    local: tuple[str, str] | None = None,
    resource_type: str = "Patient",
    relationship: str | None = None,
    rid: str = "p",
) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = []
    if nhs_number:
        ident: dict[str, Any] = {"system": NHS_NUMBER, "value": nhs_number}
        if verified:
            ident["extension"] = [
                {
                    "url": NHS_NUMBER_VERIFICATION_EXTENSION,
                    "valueCodeableConcept": {"coding": [{"code": "01"}]},
                }
            ]
        identifiers.append(ident)
    if local:
        identifiers.append({"system": local_system(*local[:1], "person"), "value": local[1]})
    resource: dict[str, Any] = {
        "resourceType": resource_type,
        "id": resource_id("test", rid, given, family, born),
    }
    if identifiers:
        resource["identifier"] = identifiers
    if given or family:
        resource["name"] = [{"given": given.split(), "family": family}]
    if born:
        resource["birthDate"] = born
    if sex:
        resource["gender"] = sex
    if postcode:
        resource["address"] = [{"postalCode": postcode}]
    if relationship:
        resource["relationship"] = [{"coding": [{"code": relationship}]}]
        resource["patient"] = {"reference": "urn:uuid:x"}
    return resource


def event(
    subject: dict[str, Any],
    record: str,
    *others: dict[str, Any],
    partner: str = "la-csc",
    event_type: EventType = EventType.ENCOUNTER,
    version: str = "1",
    family_id: str | None = None,
) -> HubEvent:
    subjects = [Identifier(system=i["system"], value=i["value"]) for i in subject.get("identifier", [])] or [
        Identifier(system=local_system(partner, "record"), value=record)
    ]
    if family_id:
        subjects.append(Identifier(system=local_system(partner, "family"), value=family_id))
    return HubEvent.create(
        event_type=event_type,
        source_partner=partner,
        source_system=local_system(partner, "events"),
        source_record_id=record,
        record_version=version,
        occurred_at=datetime(2025, 3, 1, tzinfo=UTC),
        subjects=subjects,
        entries=[Entry.of(subject), *(Entry.of(o) for o in others)],
    )


def amy(**changes: object) -> dict[str, object]:
    """Amy Jones, born 2019-05-02 at CO15 1AB: the person most tests probe, with `changes`."""
    values: dict[str, object] = {
        "given": "Amy", "family": "Jones", "born": "2019-05-02", "sex": "female", "postcode": "CO15 1AB",
    }  # fmt: skip
    values.update(changes)
    return person(**values)  # type: ignore[arg-type]
