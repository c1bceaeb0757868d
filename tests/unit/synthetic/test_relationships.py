"""Relationship data in the synthetic county: every statement of who is whose family (NK1 in
hospital ADT, RelatedPerson in GP extracts, the mother in NEMS birth notifications, CTF
contacts, social care family ids) agrees with the ground truth, read through the real connectors
and identity facts (services/identity/facts.py), as `hubnet identity score` reads them."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import date, timedelta

import orjson

from connectors import registry
from connectors.base import SourceContext
from schemas.envelope import HubEvent
from schemas.identifiers import NHS_NUMBER, UPN
from services.identity.facts import Role, read_event
from services.synthetic.county import DEFAULT_START
from tests.unit.synthetic.conftest import END, County

STATING_FORMATS = ("hl7v2", "fhir", "nems", "ctf")


def _events(county: County, fmt: str) -> list[HubEvent]:
    events = []
    for entry in county.manifest["files"]:
        if entry["format"] == fmt:
            data = (county.root / entry["path"]).read_bytes()
            ctx = SourceContext(partner=entry["partner"], source_name=entry["path"])
            events += [o for o in registry.get(fmt).convert(data, ctx) if isinstance(o, HubEvent)]
    return events


def test_every_stated_relative_is_a_carer_or_partner_in_the_subjects_true_family(county: County) -> None:
    """A child's records name its parents and carers; an adult's, the partner they live with."""
    family_of = {p["nhs_number"]: p["family_id"] for p in county.people}
    family_of |= {p["upn"]: p["family_id"] for p in county.people if p["upn"]}
    is_child = {p["nhs_number"]: p["role"] == "child" for p in county.people}
    is_child |= {p["upn"]: True for p in county.people if p["upn"]}
    adults = {p["nhs_number"] for p in county.people if p["role"] != "child"}
    stated: Counter[tuple[str, Role]] = Counter()
    for fmt in STATING_FORMATS:
        for event in _events(county, fmt):
            facts = read_event(event)
            # a hospital number alone (the trust lacks the NHS number): the family is not checkable
            subject = next(
                (i.value for i in facts.subject.identifiers if i.system in (NHS_NUMBER, UPN)), None
            )
            for relation in facts.relations:
                stated[fmt, relation.role] += 1
                if subject:
                    expected = Role.PARENT if is_child[subject] else Role.PARTNER
                    assert relation.role is expected, (fmt, event.source_record_id)
                if (nhs := relation.facts.nhs) and subject:
                    assert nhs in adults
                    assert family_of[nhs] == family_of[subject], (fmt, event.source_record_id)
                elif not nhs:  # CTF contacts and some NK1: no number, but the family's name and address
                    assert relation.facts.family
                    assert relation.facts.postcode
    assert {fmt for fmt, _ in stated} == set(STATING_FORMATS), stated
    assert stated["fhir", Role.PARTNER], stated


def test_each_social_care_family_id_is_one_true_family(county: County) -> None:
    truth = defaultdict(list)
    for row in county.truth:
        if row["format"] == "csc-events":
            truth[row["file"]].append(row)
    families: dict[str, set[str]] = defaultdict(set)
    for path, rows in truth.items():
        data = (county.root / path).read_text()
        if path.endswith(".json"):
            records = orjson.loads(data)["events"]
        else:
            records = list(csv.DictReader(io.StringIO(data)))
        for record, row in zip(records, rows, strict=True):
            if record.get("family_id"):
                families[record["family_id"]].add(row["true_family_id"])
    assert families
    assert all(len(true) == 1 for true in families.values())


def test_every_birth_in_the_window_is_notified_once_with_the_mother(county: County) -> None:
    notified = Counter(
        row["true_person_id"]
        for row in county.truth
        if row["format"] == "nems" and row["expected"] != "duplicate"
    )
    born = {
        p["person_id"]
        for p in county.people
        if p["role"] == "child"
        and DEFAULT_START <= date.fromisoformat(p["birth_date"]) < END - timedelta(days=3)
    }
    assert born
    assert set(notified) == born
    assert set(notified.values()) == {1}
