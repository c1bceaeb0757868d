"""UTC stamps (connectors/common/fhir_time.py) are record versions: their text order must be their
time order, whatever the offset, precision or century of the moment."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from connectors.common.fhir_time import meta_version, utc_stamp


def test_stamps_are_fixed_width_utc_text() -> None:
    moment = datetime(2025, 1, 10, 12, 30, 5, 7, tzinfo=timezone(timedelta(hours=1)))
    assert utc_stamp(moment) == "2025-01-10T11:30:05.000007Z"
    assert utc_stamp(datetime(987, 6, 5, tzinfo=UTC)) == "0987-06-05T00:00:00.000000Z"


def test_text_order_is_time_order() -> None:
    rng = random.Random(4)
    zones = [timezone(timedelta(minutes=m)) for m in (-840, -330, 0, 60, 345, 840)]
    moments = [
        datetime(rng.randint(900, 2100), 1, 1, tzinfo=rng.choice(zones))
        + timedelta(seconds=rng.randint(0, 10**8), microseconds=rng.randint(0, 999_999))
        for _ in range(500)
    ]
    stamps = [utc_stamp(m) for m in moments]
    assert {len(s) for s in stamps} == {27}
    assert sorted(stamps) == [utc_stamp(m) for m in sorted(moments)]


def test_meta_version_prefers_a_numeric_version_id() -> None:
    assert meta_version({"meta": {"versionId": "12", "lastUpdated": "2021-02-11T15:39:00+01:00"}}) == "12"
    assert meta_version({"meta": {"versionId": "W/1", "lastUpdated": "2021-02-11T15:39:00+01:00"}}) == (
        "2021-02-11T14:39:00.000000Z"
    )
    assert meta_version({"meta": {}}) is None
