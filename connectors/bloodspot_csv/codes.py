"""The NHS newborn blood spot (NBS) screening programme's conditions and result status codes.

Conditions: the nine the programme screens every baby for (UK NSC; gov.uk "Newborn blood spot
screening: programme overview"). Status codes: the programme's "NHS newborn blood spot screening
programme status codes" that laboratories report to child health information services (CHIS):
two digits per condition, optionally a four-digit sub code whose first two digits are the status
code (`0301` too young for reliable screening). hubnet names the codes whose meaning it relies
on; every other status code 01-10 is carried as sent, and anything else is refused.
"""

from __future__ import annotations

from schemas.identifiers import HUB_CODE_SYSTEMS

CONDITION_SYSTEM = HUB_CODE_SYSTEMS + "nbs-condition"
STATUS_SYSTEM = HUB_CODE_SYSTEMS + "nbs-status"
CONDITIONS = {
    "pku": "Phenylketonuria (PKU)",
    "cht": "Congenital hypothyroidism (CHT)",
    "scd": "Sickle cell disease (SCD)",
    "cf": "Cystic fibrosis (CF)",
    "mcadd": "Medium-chain acyl-CoA dehydrogenase deficiency (MCADD)",
    "msud": "Maple syrup urine disease (MSUD)",
    "iva": "Isovaleric acidaemia (IVA)",
    "ga1": "Glutaric aciduria type 1 (GA1)",
    "hcu": "Homocystinuria (pyridoxine unresponsive) (HCU)",
}
STATUS = {
    "01": "Specimen received in laboratory",
    "02": "Declined",
    "03": "Repeat or further sample required",
    "04": "Condition not suspected",
    "08": "Condition suspected",
}
"""Status codes hubnet names; 05, 06, 07, 09 and 10 are carried with their code only."""
STATUS_CODES = frozenset(f"{n:02d}" for n in range(1, 11))
SUB_CODES = {
    "0201": "Declined, no history of being screened",
    "0202": "Declined, screened in UK (as reported by parents) with no evidence of result",
    "0203": "Declined, screened outside UK with evidence of result",
    "0204": "Declined, screened outside UK with no evidence of result",
    "0208": "Declined, due to epidemic",
    "0301": "Too young for reliable screening",
    "0302": "Too soon after transfusion (< 72 hours)",
    "0303": "Insufficient sample",
    "0304": "Unsuitable sample (blood quality): incorrect blood application",
    "0305": "Unsuitable sample (blood quality): compressed or damaged",
}
SUSPECTED = "08"
NOT_SUSPECTED = "04"
RECEIVED = "01"
