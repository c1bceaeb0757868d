"""`fhir`: FHIR R4 (UK Core style) resources as GP practices and the community trust send them.

Each monthly delivery is a `collection` Bundle. Resources point at their subject by NHS number (a
logical reference, as UK Core allows), so every entry stands on its own if a connector splits the
Bundle. A Patient keeps one resource id per practice and counts its versions in `meta.versionId`;
other resources get an id of their own per record. Deliberately broken resources travel in a file
of their own, so whether a connector rejects a whole Bundle or one entry, exactly they are rejected.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from schemas.identifiers import HUB_CODE_SYSTEMS, NHS_NUMBER, NHS_NUMBER_VERIFICATION_EXTENSION
from services.synthetic.mess import View, bad_date
from services.synthetic.partners import Partner
from services.synthetic.records import LifeEvent
from services.synthetic.writer import Defect, Fields, FormatWriter

NAMESPACE = uuid.UUID("0d7c4a52-5a0e-4c53-8f43-6a2f1f3b9e10")
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
SNOMED = "http://snomed.info/sct"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
VACCINE_SYSTEM = HUB_CODE_SYSTEMS + "synthetic-vaccine"
REFERRAL_SYSTEM = HUB_CODE_SYSTEMS + "referral-code"
REFERRAL_CATEGORY = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}
"""UK Core's ServiceRequest category for a referral: without it a request is a plain order."""
VERIFIED = {
    "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
    "code": "01",
    "display": "Number present and verified",
}


ROLE_CODES = {
    "mother": ("MTH", "mother"),
    "father": ("FTH", "father"),
    "step-parent": ("STPPRN", "step parent"),
    "partner": ("DOMPART", "domestic partner"),
}
"""How a practice codes a child's parents and an adult's partner on RelatedPerson (v3 RoleCode)."""


def _ref(view: View) -> dict[str, Any]:
    return {"identifier": {"system": NHS_NUMBER, "value": view.nhs_number}}


def _org(code: str) -> dict[str, Any]:
    return {"identifier": {"system": ODS, "value": code}}


def _referral_code(detail: dict[str, Any]) -> dict[str, Any]:
    """What a referral asks for: the service in words, and the hub's referral code when the
    referrer codes it (health visitors do; the GP's mental health referrals are text only)."""
    concept: dict[str, Any] = {"text": detail["service"]}
    if "code" in detail:
        concept["coding"] = [
            {"system": REFERRAL_SYSTEM, "code": detail["code"], "display": detail["service"]}
        ]
    return concept


class FhirWriter(FormatWriter):
    fmt = "fhir"
    extension = "json"

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        when = event.at.isoformat()
        if event.kind in ("gp-registration", "patient-update"):
            rid = str(uuid.uuid5(NAMESPACE, f"{event.partner.code}|{event.person.person_id}"))
            version += event.detail.get("version", 1) - 1
        elif event.kind == "related-person":
            kin = view.kin[0].person.person_id
            rid = str(uuid.uuid5(NAMESPACE, f"{event.partner.code}|{event.person.person_id}|{kin}"))
        else:
            rid = str(uuid.uuid5(NAMESPACE, f"{event.partner.code}|{record_id}"))
        resource, date_path = getattr(self, "_" + event.kind.replace("-", "_"))(event, view, when)
        resource = {
            "resourceType": resource.pop("resourceType"),
            "id": rid,
            "meta": {
                "versionId": str(version),
                "lastUpdated": when,
                "profile": [PROFILE + resource.pop("_profile")],
            },
            **resource,
        }
        return {"resource": resource, "_date_path": date_path, "_day": event.at.date()}

    def _gp_registration(
        self, event: LifeEvent, view: View, when: str
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        assert view.nhs_number is not None  # practices always hold the NHS number
        patient = {
            "resourceType": "Patient",
            "_profile": "Patient",
            "identifier": [
                {
                    "extension": [
                        {
                            "url": NHS_NUMBER_VERIFICATION_EXTENSION,
                            "valueCodeableConcept": {"coding": [VERIFIED]},
                        }
                    ],
                    "system": NHS_NUMBER,
                    "value": view.nhs_number,
                }
            ],
            "name": [{"use": "official", "family": view.surname, "given": [view.given]}],
            "gender": event.person.sex,
            "birthDate": view.birth_date.isoformat(),
            "address": [{"use": "home", "postalCode": view.postcode}],
            "generalPractitioner": [_org(event.partner.code)],
        }
        return patient, ("birthDate",)

    _patient_update = _gp_registration

    def _related_person(
        self, event: LifeEvent, view: View, when: str
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """A child's parent or an adult's partner as the practice holds them: a RelatedPerson naming
        the patient's NHS number."""
        (kin,) = view.kin
        code, display = ROLE_CODES[kin.relation]
        related: dict[str, Any] = {
            "resourceType": "RelatedPerson",
            "_profile": "RelatedPerson",
            "patient": _ref(view),
            "relationship": [{"coding": [{"system": ROLE_CODE, "code": code, "display": display}]}],
            "name": [{"use": "official", "family": kin.view.surname, "given": [kin.view.given]}],
            "gender": kin.person.sex,
            "birthDate": kin.view.birth_date.isoformat(),
            "address": [{"use": "home", "postalCode": kin.view.postcode}],
        }
        if kin.view.nhs_number:
            related["identifier"] = [{"system": NHS_NUMBER, "value": kin.view.nhs_number}]
        return related, ("birthDate",)

    def _consultation(
        self, event: LifeEvent, view: View, when: str
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        encounter = {
            "resourceType": "Encounter",
            "_profile": "Encounter",
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB",
                "display": "ambulatory",
            },
            "type": [{"coding": [{"system": SNOMED, "code": "185317003", "display": "Telephone encounter"}]}]
            if event.detail.get("remote")
            else [{"text": "GP surgery consultation"}],
            "subject": _ref(view),
            "period": {"start": when, "end": when},
            "serviceProvider": _org(event.partner.code),
        }
        return encounter, ("period", "start")

    def _immunisation(
        self, event: LifeEvent, view: View, when: str
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        code, text = event.detail["vaccine"]
        immunization = {
            "resourceType": "Immunization",
            "_profile": "Immunization",
            "status": "completed",
            "vaccineCode": {
                "coding": [{"system": VACCINE_SYSTEM, "code": code, "display": text}],
                "text": text,
            },
            "patient": _ref(view),
            "occurrenceDateTime": when,
            "primarySource": True,
            "performer": [{"actor": _org(event.partner.code)}],
        }
        return immunization, ("occurrenceDateTime",)

    def _weight(self, event: LifeEvent, view: View, when: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        observation = {
            "resourceType": "Observation",
            "_profile": "Observation-VitalSigns-BodyWeight",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [
                    {"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"},
                    {"system": SNOMED, "code": "27113001", "display": "Body weight"},
                ]
            },
            "subject": _ref(view),
            "effectiveDateTime": when,
            "valueQuantity": {
                "value": event.detail["kg"],
                "unit": "kg",
                "system": "http://unitsofmeasure.org",
                "code": "kg",
            },
        }
        return observation, ("effectiveDateTime",)

    def _referral(self, event: LifeEvent, view: View, when: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        request = {
            "resourceType": "ServiceRequest",
            "_profile": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "category": [{"coding": [REFERRAL_CATEGORY]}],
            "code": _referral_code(event.detail),
            "subject": _ref(view),
            "authoredOn": when,
            "requester": _org(event.partner.code),
            "performer": [_org(event.detail["to"])],
            "reasonCode": [{"text": event.detail["reason"]}],
        }
        return request, ("authoredOn",)

    def record_id_of(self, fields: Fields) -> str:
        return str(fields["resource"]["id"])

    def version_of(self, fields: Fields) -> str:
        return str(fields["resource"]["meta"]["versionId"])

    def correctable(self, fields: Fields) -> bool:
        return bool(fields["resource"]["resourceType"] != "Patient")

    def malform(self, fields: Fields, rng: random.Random) -> Defect:
        """An impossible date (in a file of its own), or a file cut off mid-way."""
        if rng.random() < 0.5:
            return Defect.TRUNCATED
        *path, last = fields["_date_path"]
        holder = fields["resource"]
        for key in path:
            holder = holder[key]
        holder[last] = bad_date(rng, fields["_day"])
        return Defect.ALONE

    def encode(self, fields: Fields) -> bytes:
        resource = fields["resource"]
        return orjson.dumps({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})

    def assemble(
        self, partner: Partner, group: str, period: str, bodies: Sequence[bytes]
    ) -> tuple[bytes, list[str]]:
        bundle_id = uuid.uuid5(NAMESPACE, f"{partner.code}|{group}|{period}|{len(bodies)}|{bodies[0][:60]!r}")
        head = b'{"resourceType":"Bundle","id":"%s","type":"collection","entry":[\n' % str(bundle_id).encode()
        return head + b",\n".join(bodies) + b"\n]}\n", [f"entry {n}" for n in range(1, len(bodies) + 1)]
