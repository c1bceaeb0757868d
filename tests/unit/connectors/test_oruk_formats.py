"""ORUK / HSDS 3.0 formats and required fields that the ORUK validator checks (connectors/oruk/formats.py).

Rules from the HSDS 3.0 schema (openreferral/specification `schema/`): service and organization
`email` have `format: email`; service `url`, organization `website`, taxonomy `uri` and
taxonomy_term `term_uri` have `format: uri`; taxonomy_term requires `id`, `name`, `description`.
The ORUK validator reports a string that breaks its format as a warning
(https://developers.openreferraluk.org/ApiValidation/, "Extended checks"), so hubnet keeps the
record, leaves the value out and warns. The API details document (`GET /`) is not a record.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest

from connectors.oruk.importer import load_directory, load_tables
from tests.public_data import public_sample
from tests.unit.connectors.test_oruk import SAMPLE, csv_tables

SERVICE = {
    "id": "svc-1",
    "name": "Stay and play",
    "status": "active",
    "email": "play@example.org",
    "url": "https://example.org/play",
}


def _import(service: dict[str, Any]) -> Any:
    return load_directory(orjson.dumps(service))


def _warnings(result: Any) -> dict[str, str]:
    return {warning.location: warning.reason for warning in result.warnings}


@pytest.mark.parametrize(
    "bad", ["play.example.org", "play@", "play@example", "a b@example.org", "@example.org"]
)
def test_a_malformed_service_email_is_left_out_with_a_warning_and_the_service_kept(bad: str) -> None:
    result = _import({**SERVICE, "email": bad})
    assert result.rejections == ()
    (service,) = result.services
    assert service.email is None
    assert _warnings(result) == {"$.email": "not an e-mail address (name@domain.tld); left out"}
    (healthcare,) = [
        r.resource for r in result.resources if r.resource["resourceType"] == "HealthcareService"
    ]
    assert all(point.get("system") != "email" for point in healthcare.get("telecom", []))


@pytest.mark.parametrize(
    "bad", ["www.example.org/play", "javascript:alert(1)", "https://", "https://exa mple.org"]
)
def test_a_service_url_that_is_not_an_absolute_http_link_is_left_out_with_a_warning(bad: str) -> None:
    result = _import({**SERVICE, "url": bad})
    (service,) = result.services
    assert service.url is None
    assert _warnings(result) == {"$.url": "not an absolute http(s) URL (https://...); left out"}


def test_well_formed_email_and_url_are_kept_without_warning() -> None:
    result = _import(SERVICE)
    (service,) = result.services
    assert (service.email, service.url) == ("play@example.org", "https://example.org/play")
    assert result.warnings == ()


def test_an_organisation_with_a_bad_website_and_email_keeps_its_name() -> None:
    organisation = {
        "id": "org-1",
        "name": "Family Hubs",
        "website": "family hubs",
        "email": "hubs",
        "services": [],
    }
    result = load_directory(orjson.dumps(organisation))
    (kept,) = result.catalogue.organisations.values()
    assert (kept.name, kept.website, kept.email) == ("Family Hubs", None, None)
    assert set(_warnings(result)) == {"$.website", "$.email"}


def test_a_taxonomy_term_without_description_or_uri_is_warned_about() -> None:
    term = {"id": "t-1", "name": "Play", "taxonomy": "Family Hub services"}
    result = _import({**SERVICE, "taxonomy_terms": [term]})
    (service,) = result.services
    assert [t.code for t in service.taxonomy] == ["t-1"]
    warnings = _warnings(result)
    assert warnings["$.taxonomy_terms[0].description"].startswith("the taxonomy term has no description")
    assert warnings["$.taxonomy_terms[0].term_uri"].startswith("the taxonomy term has no URI")


def test_a_term_whose_taxonomy_gives_the_uri_needs_none_of_its_own() -> None:
    term = {"id": "t-1", "name": "Play", "description": "Play sessions"}
    with_detail = {
        **term,
        "taxonomy_detail": {"id": "tx", "name": "Hub", "description": "d", "uri": "https://t.example"},
    }
    assert _import({**SERVICE, "taxonomy_terms": [with_detail]}).warnings == ()
    taxonomy = {
        "id": "tx",
        "name": "Hub",
        "version": "1",
        "uri": "https://t.example",
        "taxonomy_terms": [term],
    }
    assert load_directory(orjson.dumps(taxonomy)).warnings == ()


def test_a_malformed_term_uri_is_warned_about_once() -> None:
    term = {"id": "t-1", "name": "Play", "description": "Play sessions", "term_uri": "not a uri"}
    result = _import({**SERVICE, "taxonomy_terms": [term]})
    assert _warnings(result) == {
        "$.taxonomy_terms[0].term_uri": "not an absolute http(s) URL (https://...); left out"
    }


@pytest.mark.parametrize("folder", ["V3.0-UK-Default", "V3.0-UK-Test"])
def test_the_public_api_details_document_is_refused_as_not_a_record(folder: str) -> None:
    data = (public_sample("open-referral-uk") / folder / "api_details.json").read_bytes()
    result = load_directory(data)
    (rejection,) = result.rejections
    assert rejection.location == "$"
    assert "API's details document" in rejection.reason
    assert result.services == []


def test_a_bad_email_in_the_csv_tables_is_located_by_line_and_column() -> None:
    tables = csv_tables()
    rows = list(csv.DictReader(io.StringIO(tables["services.csv"].decode("utf-8-sig"))))
    rows[0]["email"] = "not-an-email"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    tables["services.csv"] = out.getvalue().encode()
    result = load_tables(tables)
    assert result.rejections == ()
    assert _warnings(result)["services.csv line 2, column email"].startswith("not an e-mail address")


def test_hubnet_s_own_sample_directory_imports_without_warnings() -> None:
    result = load_directory(SAMPLE.read_bytes())
    assert (result.rejections, result.warnings) == ((), ())


def test_a_catalogue_rule_the_field_checks_missed_is_told_in_plain_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should a record reach the catalogue model with a value its field checks let through, the
    rejection lists each broken rule in words, not pydantic's text."""
    from connectors.oruk import importer
    from schemas.directory import Service

    def build(_node: Any, _kind: Any) -> Any:
        return Service(id="svc-1", name="Play", min_age=-1, max_age=500)

    monkeypatch.setattr(importer, "read_record", build)
    (rejection,) = load_directory(orjson.dumps(SERVICE)).rejections
    assert rejection.location == "$"
    assert "2 problems: min_age: " in rejection.reason
    assert "max_age: " in rejection.reason
    assert "Input should" not in rejection.reason
