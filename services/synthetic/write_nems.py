"""`nems`: PDS birth notifications as the community trust's child health system receives them
from the National Events Management Service (FHIR STU3 event messages, JSON).

One message per birth: the MessageHeader (event `pds-birth-notification-1`, lifecycle `new`, focus
the baby), the baby's Patient and the mother's Patient, both with PDS-verified NHS numbers (the
CareConnect verification-status extension, code 01). The `nems` connector takes one message per
input, so each message travels in a file of its own. The MessageHeader id is the record id; a
birth notification is never updated, so its version is always 1.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from services.synthetic.mess import View, bad_date
from services.synthetic.partners import Partner
from services.synthetic.records import LifeEvent
from services.synthetic.writer import Defect, Fields, FormatWriter

NAMESPACE = uuid.UUID("7a3e0c55-1f7b-4d8e-9f61-2c5b8a0d4e21")
NHS_NUMBER_STU3 = "https://fhir.nhs.uk/Id/nhs-number"
EVENT_TYPE = "https://fhir.nhs.uk/STU3/CodeSystem/EventType-1"
MESSAGE_EVENT_TYPE = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-EMS-MessageEventType-1"
MESSAGE_EVENT_SYSTEM = "https://fhir.nhs.uk/STU3/CodeSystem/EMS-MessageEventType-1"
VERIFICATION = (
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1"
)
VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1"
PDS_ENDPOINT = "urn:nhs-uk:addressing:ods:X26"


def _patient(rid: str, view: View, sex: str) -> dict[str, Any]:
    """A PDS Patient: verified NHS number, official name, sex, birth date, home postcode."""
    verified = {
        "url": VERIFICATION,
        "valueCodeableConcept": {"coding": [{"system": VERIFICATION_SYSTEM, "code": "01"}]},
    }
    return {
        "fullUrl": f"urn:uuid:{rid}",
        "resource": {
            "resourceType": "Patient",
            "id": rid,
            "identifier": [{"extension": [verified], "system": NHS_NUMBER_STU3, "value": view.nhs_number}],
            "name": [{"use": "official", "family": view.surname, "given": [view.given]}],
            "gender": sex,
            "birthDate": view.birth_date.isoformat(),
            "address": [{"use": "home", "postalCode": view.postcode}],
        },
    }


class NemsWriter(FormatWriter):
    fmt = "nems"
    extension = "json"
    period = "day"
    versioned = False
    one_per_file = True

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        (mother,) = view.kin
        ids = [str(uuid.uuid5(NAMESPACE, f"{record_id}|{part}")) for part in ("header", "baby", "mother")]
        sent = event.at.isoformat()
        header = {
            "fullUrl": f"urn:uuid:{ids[0]}",
            "resource": {
                "resourceType": "MessageHeader",
                "id": ids[0],
                "meta": {"versionId": "1", "lastUpdated": sent},
                "extension": [
                    {
                        "url": MESSAGE_EVENT_TYPE,
                        "valueCodeableConcept": {"coding": [{"system": MESSAGE_EVENT_SYSTEM, "code": "new"}]},
                    }
                ],
                "event": {"system": EVENT_TYPE, "code": "pds-birth-notification-1"},
                "timestamp": sent,
                "source": {"name": "Personal Demographics Service", "endpoint": PDS_ENDPOINT},
                "focus": [{"reference": f"urn:uuid:{ids[1]}"}],
            },
        }
        baby = _patient(ids[1], view, event.person.sex)
        return {
            "entries": [header, baby, _patient(ids[2], mother.view, mother.person.sex)],
            "record_id": ids[0],
            "_day": event.at.date(),
        }

    def malform(self, fields: Fields, rng: random.Random) -> Defect:
        """The baby's birth date no calendar has, or the message cut off mid-way."""
        if rng.random() < 0.5:
            return Defect.TRUNCATED
        fields["entries"][1]["resource"]["birthDate"] = bad_date(rng, fields["_day"])
        return Defect.ALONE

    def encode(self, fields: Fields) -> bytes:
        return orjson.dumps({"resourceType": "Bundle", "type": "message", "entry": fields["entries"]})

    def assemble(
        self, partner: Partner, group: str, period: str, bodies: Sequence[bytes]
    ) -> tuple[bytes, list[str]]:
        (body,) = bodies
        return body + b"\n", ["message"]
