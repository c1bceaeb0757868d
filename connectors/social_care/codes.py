"""DfE code lists the social care connectors accept, and the code systems they are published under.

Codes come from the DfE Children in Need census and SSDA903 (looked-after children) guidance. An
unknown code is rejected rather than guessed: the case management system is out of date or the
extract was edited, and either way the local authority should know. `Code.restricted` marks codes
whose mere presence reveals child protection, abuse or care status.
"""

from __future__ import annotations

from typing import NamedTuple

from schemas.errors import MappingError
from schemas.identifiers import HUB_CODE_SYSTEMS

CODE_BASE = HUB_CODE_SYSTEMS
CSC_CONCEPTS = CODE_BASE + "social-care"
REFERRAL_SOURCE_SYSTEM = CODE_BASE + "dfe-cin-referral-source"
PRIMARY_NEED_SYSTEM = CODE_BASE + "dfe-cin-primary-need"
CLOSURE_REASON_SYSTEM = CODE_BASE + "dfe-cin-closure-reason"
ABUSE_CATEGORY_SYSTEM = CODE_BASE + "dfe-cin-category-of-abuse"
ASSESSMENT_FACTOR_SYSTEM = CODE_BASE + "dfe-cin-assessment-factor"
ASSESSMENT_OUTCOME_SYSTEM = CODE_BASE + "csc-assessment-outcome"
LEGAL_STATUS_SYSTEM = CODE_BASE + "dfe-ssda903-legal-status"
PLACEMENT_SYSTEM = CODE_BASE + "dfe-ssda903-placement"
EPISODE_REASON_SYSTEM = CODE_BASE + "dfe-ssda903-new-episode-reason"
EPISODE_END_SYSTEM = CODE_BASE + "dfe-ssda903-episode-end-reason"
LA_CODE_SYSTEM = "https://hubnet.example.org/Id/dfe-la-code"
"""The DfE's three-digit local authority code (the census header's `LEA`: 881 Essex, 201 City of
London): which authority's social care record a fact comes from."""
MISSING_SYSTEM = CODE_BASE + "dfe-ssda903-missing-type"


class Code(NamedTuple):
    """A code with its display text and whether it marks restricted information."""

    display: str
    restricted: bool = False


def checked_code(value: str, table: dict[str, Code], location: str) -> str:
    """The code upper-cased, or a `MappingError` at `location` listing what is allowed."""
    code = value.strip().upper()
    if code not in table:
        raise MappingError(
            "the value is not one of the codes the DfE specification allows",
            location,
            hint=f"use one of: {', '.join(table)}",
        )
    return code


def coding(system: str, code: str, table: dict[str, Code]) -> dict[str, str]:
    return {"system": system, "code": code, "display": table[code].display}


REFERRAL_SOURCES: dict[str, Code] = {
    "1A": Code("Individual: family member, relative or carer"),
    "1B": Code("Individual: acquaintance"),
    "1C": Code("Individual: self"),
    "1D": Code("Individual: other"),
    "2A": Code("Schools"),
    "2B": Code("Education services"),
    "3A": Code("Health services: GP"),
    "3B": Code("Health services: health visitor"),
    "3C": Code("Health services: school nurse"),
    "3D": Code("Health services: other primary health services"),
    "3E": Code("Health services: A&E"),
    "3F": Code("Health services: other"),
    "4": Code("Housing"),
    "5A": Code("LA services: social care"),
    "5B": Code("LA services: other internal"),
    "5C": Code("LA services: external"),
    "5D": Code("LA services: early help"),
    "6": Code("Police"),
    "7": Code("Other legal agency"),
    "8": Code("Other"),
    "9": Code("Anonymous"),
    "10": Code("Unknown"),
}

PRIMARY_NEEDS: dict[str, Code] = {
    "N0": Code("Not stated"),
    "N1": Code("Abuse or neglect", restricted=True),
    "N2": Code("Child's disability or illness"),
    "N3": Code("Parental disability or illness"),
    "N4": Code("Family in acute stress"),
    "N5": Code("Family dysfunction"),
    "N6": Code("Socially unacceptable behaviour"),
    "N7": Code("Low income"),
    "N8": Code("Absent parenting"),
    "N9": Code("Cases other than children in need"),
}

CLOSURE_REASONS: dict[str, Code] = {
    "RC1": Code("Adopted"),
    "RC2": Code("Died"),
    "RC3": Code("Child arrangements order"),
    "RC4": Code("Special guardianship order"),
    "RC5": Code("Transferred to services of another local authority"),
    "RC6": Code("Transferred to adult social care"),
    "RC7": Code("Services ceased for any other reason, including child no longer in need"),
    "RC8": Code("Case closed after assessment, no further action"),
    "RC9": Code("Case closed after assessment, referred to early help"),
}
STEP_DOWN = "RC9"

ABUSE_CATEGORIES: dict[str, Code] = {
    "NEG": Code("Neglect", restricted=True),
    "PHY": Code("Physical abuse", restricted=True),
    "EMO": Code("Emotional abuse", restricted=True),
    "SAB": Code("Sexual abuse", restricted=True),
    "MUL": Code("Multiple categories", restricted=True),
}
ABUSE_WORDS = {"neglect": "NEG", "physical": "PHY", "emotional": "EMO", "sexual": "SAB", "multiple": "MUL"}
"""csc-events writes the category as a word; the census as its code."""

ASSESSMENT_OUTCOMES: dict[str, Code] = {
    "NFA": Code("No further action"),
    "CIN": Code("Child in need: plan or services"),
    "S47": Code("Section 47 enquiry", restricted=True),
    "EARLY-HELP": Code("Stepped down to early help"),
}

LEGAL_STATUSES: dict[str, Code] = {
    "C1": Code("Interim care order"),
    "C2": Code("Full care order"),
    "D1": Code("Freeing order granted"),
    "E1": Code("Placement order granted"),
    "J1": Code("Remanded to local authority or youth detention accommodation"),
    "J2": Code("Placed in local authority accommodation under PACE"),
    "J3": Code("Sentenced to a youth rehabilitation order with residence requirement"),
    "L1": Code("Under police protection and in local authority accommodation"),
    "L2": Code("Emergency protection order"),
    "L3": Code("Under child assessment order and in local authority accommodation"),
    "V2": Code("Single period of accommodation under section 20"),
    "V3": Code("Agreed series of short-term breaks, individual placements"),
    "V4": Code("Agreed series of short-term breaks, multiple placements"),
}

PLACEMENTS: dict[str, Code] = {
    "A3": Code("Placed for adoption with parental consent with current foster carer"),
    "A4": Code("Placed for adoption with parental consent not with current foster carer"),
    "A5": Code("Placed for adoption with placement order with current foster carer"),
    "A6": Code("Placed for adoption with placement order not with current foster carer"),
    "H5": Code("Semi-independent living accommodation"),
    "K1": Code("Secure children's home"),
    "K2": Code("Children's home"),
    "P1": Code("Placed with own parent or other person with parental responsibility"),
    "P2": Code("Independent living"),
    "P3": Code("Residential employment"),
    "P4": Code("Supported accommodation"),
    "R1": Code("Residential care home"),
    "R2": Code("NHS or health trust establishment providing care"),
    "R3": Code("Family centre or mother and baby unit"),
    "R5": Code("Young offender institution or prison"),
    "S1": Code("Residential school"),
    "T0": Code("Temporary placement: all types"),
    "T1": Code("Temporary periods in hospital"),
    "T2": Code("Temporary absences on holiday"),
    "T3": Code("Temporary accommodation while normal foster carer is away"),
    "T4": Code("Temporary accommodation of seven days or less"),
    "U1": Code("Foster placement with relative or friend, long term"),
    "U2": Code("Foster placement with relative or friend who is an approved adopter"),
    "U3": Code("Foster placement with relative or friend, not long term"),
    "U4": Code("Foster placement with other foster carer, long term"),
    "U5": Code("Foster placement with other foster carer who is an approved adopter"),
    "U6": Code("Foster placement with other foster carer, not long term"),
    "Z1": Code("Other placement"),
}

NEW_EPISODE_REASONS: dict[str, Code] = {
    "S": Code("Started to be looked after"),
    "L": Code("Change of legal status only"),
    "P": Code("Change of placement and carer only"),
    "T": Code("Change of placement only, same carer"),
    "B": Code("Change of legal status and of placement and carer at the same time"),
    "U": Code("Change of legal status and of placement, same carer, at the same time"),
}

EPISODE_END_REASONS: dict[str, Code] = {
    "X1": Code("Episode ceased and a new one began on the same day"),
    "E11": Code("Adopted: application unopposed"),
    "E12": Code("Adopted: consent dispensed with by the court"),
    "E13": Code("Left care to live with parent, relative or other person without parental responsibility"),
    "E14": Code("Accommodation on remand ended"),
    "E15": Code("Age assessment found the child aged 18 or over"),
    "E16": Code("Child moved abroad"),
    "E17": Code("Aged 18 or over and remained with current carers"),
    "E2": Code("Died"),
    "E3": Code("Care taken over by another local authority"),
    "E41": Code("Residence order or child arrangements order granted"),
    "E45": Code("Special guardianship order to former foster carers who are relatives or friends"),
    "E46": Code("Special guardianship order to former foster carers, not relatives or friends"),
    "E47": Code("Special guardianship order to other carers who are relatives or friends"),
    "E48": Code("Special guardianship order to other carers, not relatives or friends"),
    "E4A": Code("Returned home to parents or others with parental responsibility, as planned"),
    "E4B": Code("Returned home to parents or others with parental responsibility, not as planned"),
    "E5": Code("Moved into independent living with formal advice or support"),
    "E6": Code("Moved into independent living without formal advice or support"),
    "E7": Code("Transferred to residential care funded by adult social care"),
    "E8": Code("Period of being looked after ceased for any other reason"),
    "E9": Code("Sentenced to custody"),
}

MISSING_TYPES: dict[str, Code] = {
    "M": Code("Missing from placement", restricted=True),
    "A": Code("Away from placement without authorisation", restricted=True),
}

CONCEPTS: dict[str, Code] = {
    "contact": Code("Contact with children's social care"),
    "referral": Code("Referral to children's social care"),
    "assessment": Code("Children's social care assessment"),
    "s47-enquiry": Code("Section 47 child protection enquiry", restricted=True),
    "cin-case": Code("Child in need case"),
    "cin-plan": Code("Child in need plan"),
    "cp-plan": Code("Child protection plan", restricted=True),
    "looked-after": Code("Looked after by the local authority", restricted=True),
    "missing": Code("Missing from home or care", restricted=True),
    "early-help": Code("Early help"),
    "early-help-referral": Code("Referral to early help in the family hub network"),
}
"""hubnet's own concepts for what a social care record is (resource type, code and category)."""
