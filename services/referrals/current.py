"""The hub network of the county pack in use, followed live, for every door that routes or shows
referrals (the worker, the staff UI and API, the CLI).

Built from the newest pack loaded with `hubnet county load` (services/county/current.py polls the
county store every HUBNET_COUNTY_POLL_S), so a new pack version reaches a running worker without a
restart. With no pack loaded there is no network: asking for it raises `NoCountyPackError`, which
the worker treats as transient (the referral waits on the topic, the worker's health names the
error, and it routes as soon as a pack is loaded) and the staff UI shows as a page saying so.
Nothing is ever routed on a geography hubnet made up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from schemas.county import CountyPack
from schemas.errors import HubnetError
from services.core.settings import Settings
from services.county.current import CurrentPack
from services.county.store import CountyStore
from services.referrals.network import DEFAULT_CONFIG, Network, NetworkConfig, network_from_pack, read_config

NO_PACK = "no county pack is loaded, so referrals cannot be routed: load one with `hubnet county load FOLDER`"


class NoCountyPackError(HubnetError):
    """No county pack is loaded yet; retrying is right, because loading one fixes it."""

    retriable = True  # services/streams/retry.py: the message waits, the worker shows as stalled


class CurrentNetwork:
    """The network of the newest loaded county pack, rebuilt when a new version is loaded."""

    def __init__(
        self,
        store: CountyStore,
        poll_s: float,
        config: NetworkConfig,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        def build(pack: CountyPack) -> Network:
            return network_from_pack(pack, config)

        self._pack = CurrentPack(store, poll_s, build, clock)

    @classmethod
    def from_settings(cls, settings: Settings, config: Path = DEFAULT_CONFIG) -> CurrentNetwork:
        """The network of the county store the settings name, with the hub config at `config`."""
        return cls(CountyStore.in_data_dir(settings), settings.county_poll_s, read_config(config))

    @property
    def version(self) -> int:
        """The county pack version in use (0: none loaded)."""
        return self._pack.version

    def problem(self) -> str | None:
        """For `/readyz` and the heartbeat (`hubnet status`): why nothing can be routed, or None."""
        return NO_PACK if self.version == 0 else None

    def network(self) -> Network:
        """The network in use; `NoCountyPackError` while no pack is loaded."""
        found = self._pack.current()
        if found is None:
            raise NoCountyPackError(NO_PACK)
        return found
