"""DfE code lists the education connectors accept, and the code systems they are published under.

Codes come from the DfE Common Basic Data Set (CBDS) as the CTF and school census use them. An
unknown code is rejected rather than guessed: the partner's system is out of date or the file was
edited, and either way the school should know.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from schemas.identifiers import HUB_CODE_SYSTEMS

CODE_BASE = HUB_CODE_SYSTEMS
EDUCATION_CONCEPTS = CODE_BASE + "education"
SEN_PROVISION_SYSTEM = CODE_BASE + "dfe-sen-provision"
SEN_TYPE_SYSTEM = CODE_BASE + "dfe-sen-type"
EXCLUSION_CATEGORY_SYSTEM = CODE_BASE + "dfe-exclusion-category"
EXCLUSION_REASON_SYSTEM = CODE_BASE + "dfe-exclusion-reason"
CONTACT_RELATIONSHIP_SYSTEM = CODE_BASE + "dfe-contact-relationship"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
SCHOOL_URN_SYSTEM = "https://fhir.hl7.org.uk/Id/urn-school-number"
LAESTAB_SYSTEM = "https://hubnet.example.org/Id/dfe-laestab"
ULN_SYSTEM = "https://hubnet.example.org/Id/uln"


class Code(NamedTuple):
    """A code with its display text and whether it marks restricted information."""

    display: str
    restricted: bool = False


SEN_PROVISION: dict[str, Code] = {
    "N": Code("No special educational need"),
    "K": Code("SEN support"),
    "E": Code("Education, health and care plan"),
}

SEN_TYPES: dict[str, Code] = {
    "SPLD": Code("Specific learning difficulty"),
    "MLD": Code("Moderate learning difficulty"),
    "SLD": Code("Severe learning difficulty"),
    "PMLD": Code("Profound and multiple learning difficulty"),
    "SEMH": Code("Social, emotional and mental health", restricted=True),
    "SLCN": Code("Speech, language and communication needs"),
    "HI": Code("Hearing impairment"),
    "VI": Code("Visual impairment"),
    "MSI": Code("Multi-sensory impairment"),
    "PD": Code("Physical disability"),
    "ASD": Code("Autistic spectrum disorder"),
    "OTH": Code("Other difficulty or disability"),
    "NSA": Code("SEN support but no specialist assessment of type of need"),
}

EXCLUSION_CATEGORIES: dict[str, Code] = {
    "FIXD": Code("Suspension (fixed period)"),
    "PERM": Code("Permanent exclusion"),
    "LNCH": Code("Lunchtime suspension"),
}

EXCLUSION_REASONS: dict[str, Code] = {
    "PP": Code("Physical assault against a pupil"),
    "PA": Code("Physical assault against an adult"),
    "VP": Code("Verbal abuse or threatening behaviour against a pupil"),
    "VA": Code("Verbal abuse or threatening behaviour against an adult"),
    "BU": Code("Bullying"),
    "RA": Code("Racist abuse"),
    "LG": Code("Abuse against sexual orientation or gender identity"),
    "DS": Code("Abuse relating to disability"),
    "SM": Code("Sexual misconduct", restricted=True),
    "DA": Code("Drug and alcohol related"),
    "DM": Code("Damage"),
    "TH": Code("Theft"),
    "PD": Code("Persistent disruptive behaviour"),
    "MT": Code("Inappropriate use of social media or online technology"),
    "WP": Code("Use or threat of use of an offensive weapon or prohibited item"),
    "OT": Code("Other"),
}

GENDERS: dict[str, str] = {"M": "male", "F": "female", "U": "unknown"}

CONTACT_RELATIONSHIPS: dict[str, tuple[str, str | None]] = {
    "PAM": ("Mother", "MTH"),
    "PAF": ("Father", "FTH"),
    "STP": ("Step-parent", "STPPRN"),
    "STM": ("Step-mother", "STPMTH"),
    "STF": ("Step-father", "STPFTH"),
    "CAR": ("Carer", "GUARD"),
    "FOM": ("Foster mother", None),
    "FOF": ("Foster father", None),
    "FAM": ("Other family member", None),
    "REL": ("Other relative", None),
    "CHM": ("Childminder", None),
    "DOC": ("Doctor", None),
    "SWR": ("Social worker", None),
    "OTH": ("Other contact", None),
}
"""CTF contact `Relationship` (CBDS relationship to pupil) -> display and HL7 v3 RoleCode. Only
parents and carers with parental responsibility get a RoleCode, which is what makes identity
resolution read them as the pupil's family; foster carers, relatives, childminders and
professionals are contacts, not the household. An unknown code is kept as text, not rejected:
a contact's label must not cost the school record of the pupil."""


def coding(system: str, code: str, table: dict[str, Code]) -> dict[str, str]:
    """FHIR Coding for a code already checked against its table."""
    return {"system": system, "code": code, "display": table[code].display}


def concept(code: str, display: str) -> dict[str, Any]:
    """CodeableConcept from hubnet's education concepts (categories, components, episode types)."""
    return {"coding": [{"system": EDUCATION_CONCEPTS, "code": code, "display": display}]}
