"""The loaded county pack as workers use it: postcode -> hub area, switching to a new version live.

A worker asks `hub_area(postcode)` for every event. At most every `poll_s` seconds it asks the
county store for its newest version number (one cheap query); only when that number moved does it
read the pack again and rebuild the lookup. So `hubnet county load` reaches running workers within
`HUBNET_COUNTY_POLL_S` and without a restart. Before any pack is loaded every postcode has no hub
area: a family is then seen only by county-wide roles, never by a guessed hub area's staff.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from services.county.geography import HubAreaLookup, hub_area_lookup
from services.county.store import CountyStore

log = structlog.get_logger(__name__)
_EMPTY = HubAreaLookup({})


class CurrentCounty:
    """Postcode -> hub area of the newest loaded pack, re-read when a new version appears."""

    def __init__(
        self, store: CountyStore, poll_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._poll_s = poll_s
        self._clock = clock
        self._version = -1
        self._checked_at = float("-inf")
        self._lookup = _EMPTY

    @property
    def version(self) -> int:
        """The version in use (0: none loaded yet)."""
        self._refresh()
        return self._version

    def hub_area(self, postcode: str | None) -> str | None:
        self._refresh()
        return self._lookup.hub_area(postcode)

    def _refresh(self) -> None:
        now = self._clock()
        if now - self._checked_at < self._poll_s:
            return
        self._checked_at = now
        latest = self._store.latest_version()
        if latest == self._version:
            return
        loaded = self._store.get(latest) if latest else None
        self._lookup = hub_area_lookup(loaded.pack) if loaded else _EMPTY
        self._version = latest
        log.info("county.version_in_use", version=latest)
