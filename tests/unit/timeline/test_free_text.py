"""The free-text rule (services/timeline/free_text.py): the term lists label restricted categories,
short acronyms only as words, long or non-Latin text as unsure; who reads what; FHIR redaction."""

from __future__ import annotations

import pytest

from schemas.event_types import Domain
from services.timeline.free_text import WITHHELD, Reader, classify, may_read, redact

HEALTH_VISITOR = Reader(frozenset({Domain.HEALTH, Domain.SOCIAL_CARE}))
SCHOOL_NURSE = Reader(frozenset({Domain.HEALTH}))
HUB_PRACTITIONER = Reader(frozenset())


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        (
            "domestic abuse; child protection referral; HIV positive",
            {"domestic abuse", "safeguarding", "sexual health"},
        ),
        ("Mum disclosed DA last week", {"domestic abuse"}),
        ("Referred to CAMHS after self-harm", {"mental health"}),
        ("Dad drinks; alcohol misuse suspected", {"substance misuse"}),
        ("Chlamydia screen offered", {"sexual health"}),
        ("Strategy meeting held, S47 opened", {"safeguarding"}),
    ],
)
def test_restricted_terms_are_found(text: str, categories: set[str]) -> None:
    assert classify(text).categories == categories
    assert not classify(text).normal


@pytest.mark.parametrize(
    "text",
    ["Came to stay and play; preparing for school", "Weight 8.2 kg, on the 50th centile", "Had a good day"],
)
def test_everyday_text_is_normal_and_short_acronyms_match_only_as_words(text: str) -> None:
    assert classify(text).normal


def test_text_the_term_list_cannot_judge_is_unsure() -> None:
    assert classify("word " * 41).unsure, "a narrative longer than a short note"
    assert classify("Мама пришла").unsure, "not in Latin script: the English term list cannot judge it"
    assert classify("Café visit, naïve question").normal


def test_who_reads_what() -> None:
    sensitive = "domestic abuse; HIV positive"
    assert may_read(sensitive, HEALTH_VISITOR, Domain.HEALTH)
    assert not may_read(sensitive, SCHOOL_NURSE, Domain.HEALTH), "domestic abuse is social care's"
    assert not may_read(sensitive, HUB_PRACTITIONER, Domain.HEALTH)
    assert may_read(sensitive, Reader(frozenset(), break_glass=True), Domain.HEALTH)
    long_note = "word " * 41
    assert may_read(long_note, SCHOOL_NURSE, Domain.HEALTH), (
        "unsure text: the entry domain's restricted grant"
    )
    assert not may_read(long_note, SCHOOL_NURSE, Domain.EDUCATION)
    assert not may_read(long_note, HUB_PRACTITIONER, Domain.HEALTH)


def test_redaction_reaches_every_free_text_element_and_leaves_codes_alone() -> None:
    observation = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1234", "display": "Review"}],
                 "text": "Mental health review"},
        "valueString": "self-harm disclosed",
        "note": [{"text": "HIV positive", "authorString": "HV"}, {"text": "Happy baby"}],
        "text": {"status": "generated", "div": "<div>overdose</div>"},
        "status": "final",
    }  # fmt: skip
    shown, count = redact(observation, HUB_PRACTITIONER, Domain.HEALTH)
    assert count == 4
    assert shown["valueString"] == shown["code"]["text"] == shown["note"][0]["text"] == WITHHELD
    assert shown["text"]["div"] == WITHHELD
    assert shown["note"][1]["text"] == "Happy baby"
    assert shown["code"]["coding"] == observation["code"]["coding"]
    assert shown["status"] == "final"
    assert observation["valueString"] == "self-harm disclosed", "the stored record is never changed"
    assert redact(observation, HEALTH_VISITOR, Domain.HEALTH) == (observation, 0)
