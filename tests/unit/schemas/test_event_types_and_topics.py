from __future__ import annotations

import json
from pathlib import Path

from fhir.resources.R4B.codesystem import CodeSystem

from schemas.event_types import DEFINITIONS, EventType, code_system
from schemas.topics import catalogue

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def test_every_event_code_has_a_definition() -> None:
    assert set(DEFINITIONS) == set(EventType)


def test_code_system_is_valid_fhir_and_lists_every_code() -> None:
    resource = code_system()
    CodeSystem.model_validate(resource)
    assert [c["code"] for c in resource["concept"]] == [e.value for e in EventType]  # type: ignore[index, union-attr]


def test_published_code_system_file_matches_the_code() -> None:
    published = json.loads((SCHEMAS / "fhir" / "CodeSystem-hub-event-type.json").read_text())
    assert published == code_system(), "run `hubnet schemas export` and commit the result"


def test_catalogue_declares_the_core_topics_once() -> None:
    names = catalogue().names()
    assert len(names) == len(set(names))
    assert {"fh.events", "fh.linked", "fh.referrals", "fh.dlq", "fh.audit"} <= set(names)


def test_compacted_topics_are_the_keyed_state_ones() -> None:
    policies = {t.name: t.cleanup_policy for t in catalogue().topic}
    assert policies["fh.directory"] == "compact"
    assert policies["fh.events"] == "delete"


def test_committed_contract_files_match_the_code() -> None:
    from services.cli.contracts import contracts

    for relative, content in contracts().items():
        assert (SCHEMAS.parent / relative).read_text() == content, (
            f"{relative} is stale: run hubnet schemas export"
        )
