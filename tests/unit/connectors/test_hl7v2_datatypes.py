"""HL7 v2 value reading that was reshaped for speed (issue #4): DTM parsing is cached by text,
`Value.components` reads several components at once. Both must behave as the plain readers."""

from __future__ import annotations

import pytest

from connectors.hl7v2.datatypes import fhir_date, fhir_datetime, to_datetime
from connectors.hl7v2.parsing import Delimiters, Value
from schemas.errors import MappingError

DELIMS = Delimiters(field="|", component="^", repetition="~", escape="\\", subcomponent="&")


@pytest.mark.parametrize(
    ("text", "reason", "hint"),
    [
        ("20251345", "does not exist in the calendar", "check the date"),
        ("2025-01-10", "not in HL7 form", "e.g. 20250314"),
        ("20250110120000+1500", "outside -14:00..+14:00", "+0000 or +0100"),
    ],
)
def test_a_bad_date_is_reported_at_each_place_it_is_sent(text: str, reason: str, hint: str) -> None:
    """The cache keeps the verdict of a text, never its place: each field names itself."""
    for location in ("PID-7", "OBX(2)-14"):
        with pytest.raises(MappingError, match=reason) as caught:
            to_datetime(Value(text, DELIMS, location))
        assert caught.value.location == f"{location}.1"
        assert hint in caught.value.describe()


def test_cached_dates_keep_the_precision_each_reader_asks_for() -> None:
    value = Value("202503051415+0100", DELIMS, "OBX-14")
    assert fhir_date(value) == "2025-03-05"
    assert fhir_datetime(value) == "2025-03-05T14:15:00+01:00"
    assert fhir_datetime(Value("20250305", DELIMS, "PID-7")) == "2025-03-05"
    assert fhir_date(Value("202503", DELIMS, "PID-7")) == "2025-03"


@pytest.mark.parametrize(
    "text",
    [
        "TESTCHILD^Olivia^Rose^^^^L",
        " Smith ^ Ann",
        'A&B^""^C\\T\\D^^',
        "",
        "^^^^^^^^^^^^",
        "only",
    ],
)
def test_components_reads_what_comp_reads(text: str) -> None:
    value = Value(text, DELIMS, "PID-5")
    assert value.components(9) == [Value(text, DELIMS, "PID-5").comp(n) for n in range(1, 10)]
