"""Open Referral UK directory import: ORUK JSON and HSDS CSV tables to the service catalogue and FHIR.

Public samples: tests/data/public/open-referral-uk/ (OpenReferralUK/uk-profile `examples/` @
ecdfabf and tpximpact/OpenReferralApi `Mocks/` @ eba7ab3, CC-BY-SA-4.0), plus hubnet's own
synthetic samples/oruk/directory.json and broken variants written here.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.common.fhir_validation import validate_resource
from connectors.oruk.importer import DirectoryImport, load_directory, load_tables
from schemas.directory import DirectoryResource
from tests.public_data import public_sample

REPO = Path(__file__).parents[3]
ORUK = public_sample("open-referral-uk")
SAMPLE = REPO / "samples" / "oruk" / "directory.json"
NOT_DIRECTORY_DATA = {
    "api_details.json",
    "dashboard_service_details_response.json",
    "dashboard_services_response.json",
}
SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"


def public(pattern: str) -> list[Path]:
    return sorted(p for p in ORUK.glob(pattern) if p.name not in NOT_DIRECTORY_DATA)


def csv_tables() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in public("uk-profile-examples/csv/*.csv")}


def sample() -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(SAMPLE.read_bytes())
    return body


def assert_valid(result: DirectoryImport) -> None:
    keys = [resource.key for resource in result.resources]
    assert len(keys) == len(set(keys)), "one message per resource key"
    for item in result.resources:
        validate_resource(item.resource)
        assert item.key == f"{item.resource['resourceType']}/{item.resource['id']}"


def test_every_public_json_sample_imports_without_rejection() -> None:
    files = public("**/*.json")
    assert len(files) >= 20
    for path in files:
        result = load_directory(path.read_bytes())
        assert result.rejections == (), (path, result.rejections)
        assert_valid(result)
        if "service" in path.name:
            assert SERVICE_ID in result.catalogue.services, path


def test_the_service_detail_carries_organisation_location_ages_and_taxonomy() -> None:
    (path,) = public("uk-profile-examples/service_full.json")
    result = load_directory(path.read_bytes())
    (service,) = result.services
    assert (service.min_age, service.max_age) == (12, 100)
    assert service.organisation_id == "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
    assert [link.location_id for link in service.locations] == ["3a19ff88-4620-4d17-9830-ac1d859eb5d5"]
    assert [term.code for term in service.taxonomy] == ["3f7b145d-84af-42d7-8fae-eaca714b02b2"]
    (organisation,) = result.catalogue.organisations.values()
    assert organisation.identifiers[0].scheme == "GB-COH"
    (location,) = result.catalogue.locations.values()
    assert location.uprn == "10092008082"
    assert location.postcode == "ABC 1234"
    assert sorted(r.key.split("/")[0] for r in result.resources) == [
        "HealthcareService",
        "Location",
        "Organization",
    ]


def test_coordinates_off_the_globe_are_left_out_with_a_warning() -> None:
    (path,) = public("uk-profile-examples/service_full.json")
    result = load_directory(path.read_bytes())
    (location,) = result.catalogue.locations.values()
    assert location.latitude is None
    (warning,) = result.warnings
    assert warning.location == "$.service_at_locations[0].location.latitude"


def test_the_csv_tables_give_the_same_catalogue_as_the_json_detail() -> None:
    from_csv = load_tables(csv_tables())
    assert from_csv.rejections == ()
    assert_valid(from_csv)
    (service,) = from_csv.services
    (path,) = public("uk-profile-examples/service_full.json")
    (from_json,) = load_directory(path.read_bytes()).services
    assert service.model_dump(exclude={"taxonomy", "description"}) == from_json.model_dump(
        exclude={"taxonomy", "description"}
    )
    (warning,) = from_csv.warnings
    assert warning.location.startswith("locations.csv line ")
    assert warning.location.endswith(", column latitude")


def test_a_zip_of_the_csv_tables_imports_like_the_tables() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in csv_tables().items():
            archive.writestr(f"directory/{name}", data)
    result = load_directory(buffer.getvalue())
    assert [s.id for s in result.services] == [SERVICE_ID]


def test_the_hubnet_sample_derives_send_tier_and_the_eligibility_age_range() -> None:
    result = load_directory(SAMPLE.read_bytes())
    assert result.rejections == ()
    assert_valid(result)
    play, send = result.services
    assert (play.tier, play.send, play.min_age, play.max_age) == ("universal", False, 0, 5)
    assert (send.tier, send.send, send.min_age, send.max_age) == ("targeted", True, 0, 25)
    assert play.serves_age(3)
    assert not play.serves_age(6)
    (location,) = result.catalogue.locations.values()
    assert (location.postcode, location.latitude) == ("CO15 1AA", 51.7898)
    service = next(r.resource for r in result.resources if r.key.startswith("HealthcareService/"))
    assert service["extension"][0]["valueRange"]["high"]["value"] == 5


def test_resource_keys_are_deterministic() -> None:
    first = load_directory(SAMPLE.read_bytes())
    again = load_directory(SAMPLE.read_bytes())
    assert [r.key for r in first.resources] == [r.key for r in again.resources]


def test_a_service_in_several_service_at_location_records_gets_all_locations() -> None:
    (path,) = public("uk-profile-examples/service_at_location_full.json")
    record = orjson.loads(path.read_bytes())
    other = orjson.loads(path.read_bytes())
    other["id"] = "sal-2"
    other["location"]["id"] = "loc-2"
    result = load_directory(orjson.dumps([record, other]))
    (service,) = result.services
    assert [link.location_id for link in service.locations] == [
        "3a19ff88-4620-4d17-9830-ac1d859eb5d5",
        "loc-2",
    ]


@pytest.mark.parametrize(
    ("change", "location", "words"),
    [
        ({"minimum_age": -1}, "$.contents[0].minimum_age", "whole number of years"),
        ({"maximum_age": "ten"}, "$.contents[0].maximum_age", "not a number"),
        ({"minimum_age": 9, "maximum_age": 4}, "$.contents[0].maximum_age", "below the minimum age"),
        ({"status": "paused"}, "$.contents[0].status", "allowed codes"),
        ({"last_modified": "2025-02-30"}, "$.contents[0].last_modified", "not a real ISO date"),
        ({"name": ""}, "$.contents[0].name", "required"),
        ({"service_at_locations": "here"}, "$.contents[0].service_at_locations", "expected a list"),
    ],
)
def test_bad_fields_reject_the_record_with_its_json_path(
    change: dict[str, Any], location: str, words: str
) -> None:
    body = sample()
    body["contents"][0].update(change)
    result = load_directory(orjson.dumps(body))
    (rejection,) = result.rejections
    assert rejection.location == location
    assert words in rejection.reason
    assert rejection.record_ref == "$.contents[0]"
    assert [s.id for s in result.services] == ["svc-send-parent-support"], "the other record is imported"


def test_a_bad_eligibility_age_is_located_inside_its_list() -> None:
    body = sample()
    body["contents"][1]["eligibilitys"][0]["minimum_age"] = 200
    (rejection,) = load_directory(orjson.dumps(body)).rejections
    assert rejection.location == "$.contents[1].eligibilitys[0].minimum_age"


def test_a_rejected_record_replays_on_its_own_once_fixed() -> None:
    body = sample()
    body["contents"][0]["status"] = "paused"
    (rejection,) = load_directory(orjson.dumps(body)).rejections
    fixed = orjson.loads(rejection.original)
    assert load_directory(rejection.original).rejections[0].location == "$.status"
    fixed["status"] = "active"
    assert [s.id for s in load_directory(orjson.dumps(fixed)).services] == ["svc-stay-and-play-clacton"]


def test_one_bad_service_of_an_organisation_does_not_refuse_the_organisation() -> None:
    (path,) = public("uk-profile-examples/organization_full.json")
    body = orjson.loads(path.read_bytes())
    body["services"].append({"id": "svc-bad", "name": "Bad", "status": "active", "minimum_age": 3.5})
    result = load_directory(orjson.dumps(body))
    (rejection,) = result.rejections
    assert rejection.location == "$.services[1].minimum_age"
    assert [s.id for s in result.services] == [SERVICE_ID]
    assert result.services[0].organisation_id in result.catalogue.organisations


def test_a_bad_csv_cell_names_the_file_line_and_column() -> None:
    tables = csv_tables()
    tables["services.csv"] = tables["services.csv"].replace(b",12,100,", b",12,x,")
    result = load_tables(tables)
    (rejection,) = result.rejections
    # the sample ends lines with CR CR LF, which the shared CSV reader counts as two line breaks
    assert re.fullmatch(r"services\.csv line \d+, column maximum_age", rejection.location or "")
    assert result.services == []
    assert len(result.catalogue.organisations) == 1, "the organisation row is still imported"


def test_inputs_that_are_not_a_directory_are_rejected_whole() -> None:
    assert "neither well-formed JSON" in load_directory(b"id,name\n1,x\n").rejections[0].reason
    assert "cannot be opened" in load_directory(b"PK\x03\x04broken").rejections[0].reason
    (rejection,) = load_tables({"phones.csv": b"id,number\n1,2\n"}).rejections
    assert "services.csv" in rejection.reason
    (unknown,) = load_directory(b'{"publisher": {"value": "x"}}').rejections
    assert unknown.location == "$"


def test_directory_resource_keys_only_name_directory_types() -> None:
    with pytest.raises(ValueError, match="String should match pattern"):
        DirectoryResource(key="Patient/1", resource={})
