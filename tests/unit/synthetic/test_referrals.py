"""The synthetic county's referrals reach the router as referrals it can place (issue #20): every
FHIR ServiceRequest the generator writes converts to a `referral-requested` event, and a health
visitor's referrals after a review name a need of the hub network (infant feeding, speech and
language) by the network's own codes, about the child reviewed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson

from connectors import registry
from connectors.base import SourceContext
from schemas.envelope import HubEvent
from schemas.event_types import EventType
from services.county.pack import read_pack
from services.referrals.network import network_from_pack, read_config
from services.referrals.request import codes_of
from services.stack.demo_traffic import ensure_county
from services.synthetic.county import GENERATOR_VERSION
from services.synthetic.county_pack import PACK_DIR
from tests.unit.synthetic.conftest import County


def _service_requests(county: County) -> list[HubEvent]:
    """Every event of the county's FHIR files whose main resource is a ServiceRequest."""
    connector = registry.get("fhir")
    found: list[HubEvent] = []
    for path in county.files():
        if path.suffix != ".json" or "/fhir/" not in path.as_posix():
            continue
        for outcome in connector.convert(path.read_bytes(), SourceContext(partner="synthetic")):
            if (
                isinstance(outcome, HubEvent)
                and outcome.entries[0].resource["resourceType"] == "ServiceRequest"
            ):
                found.append(outcome)
    return found


def test_every_generated_service_request_is_a_referral_and_health_visitors_name_a_hub_need(
    county: County,
) -> None:
    requests = _service_requests(county)
    assert requests, "the county holds no FHIR ServiceRequest"
    assert {e.event_type for e in requests} == {EventType.REFERRAL_REQUESTED}
    network = network_from_pack(read_pack(county.root / PACK_DIR), read_config())  # the county's own pack
    needs: Counter[str] = Counter()
    for event in requests:
        need = network.need_for(codes_of(event.entries[0].resource))
        needs[need.code if need else "none"] += 1
    assert needs["infant-feeding"] > 0, needs
    assert needs["speech-language"] > 0, needs
    assert needs["none"] > 0, "the GP's text-only referrals stay for a hub manager to place"


def test_a_health_visitors_review_referral_is_about_the_child_reviewed(county: County) -> None:
    children = {row["person_id"] for row in county.people if row["role"] == "child"}
    truth = {row["source_record_id"]: row["true_person_id"] for row in county.truth}
    coded = [
        e for e in _service_requests(county)
        if {"infant-feeding-referral", "speech-and-language-referral"} & set(codes_of(e.entries[0].resource))
    ]  # fmt: skip
    assert coded
    assert all(truth[e.source_record_id.removeprefix("ServiceRequest/")] in children for e in coded)


def test_a_demo_county_from_an_older_generator_is_generated_again(tmp_path: Path) -> None:
    """`make run` keeps its demo county between runs: one written before the referrals were coded
    would leave the health visitor's inbox empty."""
    county = ensure_county(tmp_path / "county")
    manifest = county / "manifest.json"
    older = {**orjson.loads(manifest.read_bytes()), "generator_version": "1"}
    manifest.write_bytes(orjson.dumps(older))
    (county / "feeds" / "R9C" / "fhir").rename(county / "gone")  # what only a new generation writes back
    ensure_county(county)
    assert orjson.loads(manifest.read_bytes())["generator_version"] == GENERATOR_VERSION
    assert (county / "feeds" / "R9C" / "fhir").is_dir()
