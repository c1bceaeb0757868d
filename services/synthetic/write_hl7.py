"""`hl7v2`: HL7 v2.4 messages from hospital PAS systems (ADT) and the school immunisation team (VXU).

Hospitals send ADT^A01/A03 for admissions and discharges (births among them), A04 for emergency
department attendances, A28 to register a newborn and A31 when an address changes. The community
trust sends VXU^V04 for school-age vaccinations. PID-3 repeats the NHS number (`NH`, authority
`NHS`) and the hospital number (`MR`). Segments end in CR; messages are separated by CR LF, many
to a daily-batched monthly file. The message control id (MSH-10) is the record id; a message has
no version of its own, so the ground truth states MSH-7 as its version.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime

from services.synthetic.mess import Kin, View
from services.synthetic.partners import Partner
from services.synthetic.records import LifeEvent
from services.synthetic.writer import Defect, Fields, FormatWriter

# event kind -> (message type, trigger event, message structure, patient class)
MESSAGES = {
    "admission": ("ADT", "A01", "ADT_A01", "I"),
    "discharge": ("ADT", "A03", "ADT_A03", "I"),
    "ed-attendance": ("ADT", "A04", "ADT_A01", "E"),
    "newborn": ("ADT", "A28", "ADT_A05", ""),
    "address-change": ("ADT", "A31", "ADT_A05", ""),
    "school-vaccination": ("VXU", "V04", "VXU_V04", ""),
}
SEX = {"female": "F", "male": "M"}
NK1_RELATIONSHIPS = {"mother": "MTH^Mother", "father": "FTH^Father", "step-parent": "GRD^Guardian"}
"""How a PAS codes a child's next of kin (HL7 table 0063); a step-parent is recorded as guardian."""


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def _nk1(set_id: int, kin: Kin, postcode: str) -> str:
    """NK1: name, relationship, the home address (the child's), sex, birth date, and the NHS
    number in NK1-33 when the trust holds it."""
    view = kin.view
    fields = [
        "NK1",
        str(set_id),
        f"{view.surname}^{view.given}",
        f"{NK1_RELATIONSHIPS[kin.relation]}^HL70063",
    ]
    fields += (
        [f"^^^^{postcode}"] + [""] * 10 + [SEX.get(kin.person.sex, "U"), view.birth_date.strftime("%Y%m%d")]
    )
    if view.nhs_number:
        fields += [""] * 16 + [f"{view.nhs_number}^^^NHS^NH"]
    return "|".join(fields)


class Hl7Writer(FormatWriter):
    fmt = "hl7v2"
    extension = "hl7"
    versioned = False

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        kind, trigger, structure, patient_class = MESSAGES[event.kind]
        code = event.partner.code
        identifiers = [f"{view.local_id}^^^{code}^MR"]
        if view.nhs_number:
            identifiers.insert(0, f"{view.nhs_number}^^^NHS^NH")
        return {
            "record_id": record_id,
            "sent": _ts(event.at),
            "msh": f"MSH|^~\\&|PAS|{code}|HUBNET|ESSEX|{_ts(event.at)}||{kind}^{trigger}^{structure}|"
            f"{record_id}|P|2.4",
            "evn": f"EVN|{trigger}|{_ts(event.at)}",
            "pid3": "~".join(identifiers),
            "pid5": f"{view.surname}^{view.given}",
            "pid7": view.birth_date.strftime("%Y%m%d"),
            "pid8": SEX.get(event.person.sex, "U"),
            "pid11": f"^^^^{view.postcode}",
            "patient_class": patient_class,
            "nk1": [_nk1(n, kin, view.postcode) for n, kin in enumerate(view.kin, 1)],
            "detail": event.detail,
            "at": event.at,
        }

    def version_of(self, fields: Fields) -> str:
        return str(fields["sent"])

    def malform(self, fields: Fields, rng: random.Random) -> Defect:
        """A birth date no calendar has, or a patient with no identifier at all."""
        if rng.random() < 0.5:
            fields["pid7"] = fields["pid7"][:4] + rng.choice(("1345", "0230", "0015"))
        else:
            fields["pid3"] = ""
        return Defect.INLINE

    def encode(self, fields: Fields) -> bytes:
        pid = "|".join(
            ("PID", "1", "", fields["pid3"], "", fields["pid5"], "", fields["pid7"], fields["pid8"])
        )
        pid += f"|||{fields['pid11']}"
        segments = [fields["msh"], fields["evn"], pid, *fields["nk1"]]
        detail = fields["detail"]
        if fields["patient_class"]:
            pv1 = ["PV1", "1", fields["patient_class"], detail.get("location", "")] + [""] * 42
            pv1[19] = detail.get("visit", "")
            pv1[44] = _ts(detail.get("admitted", fields["at"]))
            pv1[45] = _ts(fields["at"]) if detail.get("discharged") else ""
            segments.append("|".join(pv1).rstrip("|"))
        if "vaccine" in detail:
            code, text = detail["vaccine"]
            segments.pop(1)  # VXU carries no EVN segment
            segments.append(f"ORC|RE||{fields['record_id']}")
            segments.append(f"RXA|0|1|{_ts(fields['at'])}|{_ts(fields['at'])}|{code}^{text}^L|0.5|ml")
        return ("\r".join(segments) + "\r").encode()

    def assemble(
        self, partner: Partner, group: str, period: str, bodies: Sequence[bytes]
    ) -> tuple[bytes, list[str]]:
        return b"\n".join(bodies), [f"message {n}" for n in range(1, len(bodies) + 1)]
