"""The loaded county pack as workers use it, switching to a new version live.

A worker asks for what it built from the pack (the timeline worker a postcode -> hub area lookup,
the referral worker its hub network) for every event. At most every `poll_s` seconds it asks the
county store for its newest version number (one cheap query); only when that number moved does it
read the pack again and build anew. So `hubnet county load` reaches running workers within
`HUBNET_COUNTY_POLL_S` and without a restart. Before any pack is loaded there is nothing built:
the timeline then places no postcode in any hub area (a family is seen only by county-wide roles,
never by a guessed hub area's staff), and the referral worker routes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import structlog

from schemas.county import CountyPack
from services.county.geography import HubAreaLookup, hub_area_lookup
from services.county.store import CountyStore

log = structlog.get_logger(__name__)
_EMPTY = HubAreaLookup({})
Built = TypeVar("Built")


class CurrentPack(Generic[Built]):
    """What `build` makes of the newest loaded pack, made again when a new version appears."""

    def __init__(
        self,
        store: CountyStore,
        poll_s: float,
        build: Callable[[CountyPack], Built],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._poll_s = poll_s
        self._build = build
        self._clock = clock
        self._version = -1
        self._checked_at = float("-inf")
        self._built: Built | None = None
        self._lock = threading.Lock()  # a health check's thread asks too (the referral worker's /readyz)

    @property
    def version(self) -> int:
        """The version in use (0: none loaded yet)."""
        self._refresh()
        return self._version

    def current(self) -> Built | None:
        """Built from the newest pack, or None while no pack has been loaded."""
        self._refresh()
        return self._built

    def _refresh(self) -> None:
        with self._lock:
            now = self._clock()
            if now - self._checked_at < self._poll_s:
                return
            self._checked_at = now
            latest = self._store.latest_version()
            if latest == self._version:
                return
            loaded = self._store.get(latest) if latest else None
            self._built = self._build(loaded.pack) if loaded else None
            self._version = latest
        log.info("county.version_in_use", version=latest)


class CurrentCounty(CurrentPack[HubAreaLookup]):
    """Postcode -> hub area of the newest loaded pack (no hub area before any pack is loaded)."""

    def __init__(
        self, store: CountyStore, poll_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(store, poll_s, hub_area_lookup, clock)

    def hub_area(self, postcode: str | None) -> str | None:
        return (self.current() or _EMPTY).hub_area(postcode)
