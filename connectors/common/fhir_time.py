"""FHIR dates and instants to aware datetimes, and record versions that sort in time order.

FHIR dates may be partial (`2021`, `2021-02`) and dateTimes carry their own offset; the hub wants
one aware UTC datetime for `occurred_at`, and versions whose text order is their time order
(`schemas.envelope.version_order` compares non-numeric versions as text).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

_PARTIAL = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}


def at_midnight(day: date) -> datetime:
    """A date as the UTC instant the timeline sorts by."""
    return datetime.combine(day, time(), tzinfo=UTC)


def parse_fhir_datetime(value: str) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime (partial dates -> their first moment);
    None when the text is not one (model validation reports those with their path)."""
    text = value.strip()
    pattern = _PARTIAL.get(len(text))
    try:
        if pattern:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_stamp(moment: datetime) -> str:
    """Fixed-width UTC text (`2021-02-11T15:39:00.000000Z`): text order equals time order.
    `isoformat` pads the year to four digits (strftime's `%Y` does not on every platform) and
    costs half as much; in UTC it always ends `+00:00`."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def meta_version(resource: dict[str, Any]) -> str | None:
    """The record version a FHIR resource states itself: a numeric `meta.versionId` (a sequence),
    else `meta.lastUpdated` as a UTC stamp; None when it states neither."""
    meta = resource.get("meta") or {}
    version_id = str(meta.get("versionId") or "")
    if version_id.isascii() and version_id.isdigit():
        return version_id
    updated = meta.get("lastUpdated")
    moment = parse_fhir_datetime(updated) if isinstance(updated, str) else None
    return utc_stamp(moment) if moment else None
