"""Hub networks for referral tests, each built from a county pack the way the referral worker
builds it (services/referrals/network.py `network_from_pack`): the two test packs of
tests/data/county, and the demo county's pack as `hubnet generate` writes it for `make run`."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from schemas.county import CountyPack
from services.county.pack import read_pack
from services.referrals.network import Network, network_from_pack, read_config
from services.synthetic.county_pack import write_pack
from services.synthetic.geography import DISTRICTS, District, Place, build_sites
from services.synthetic.partners import build_directory
from services.synthetic.reference_files import write_reference
from tests.unit.county.packs import PACKS_DIR

DEMO_POSTCODES = ("CO15 1AB", "CO15 2CD", "CO3 4PQ", "CM20 2XY", "CM1 1AA", "CM1 2AB", "SS14 1AA")
"""Homes of the families in the referral tests (Clacton, Colchester, Harlow, Chelmsford, Basildon)."""
SITES_SEED = 7  # any seed: site ids (hub01, hub01-s1...) do not depend on it


def pack_network(name: str) -> Network:
    """The network of a test pack in tests/data/county (`essex`, `london`)."""
    return network_from_pack(read_pack(PACKS_DIR / name), read_config())


def demo_pack(into: Path, postcodes: Iterable[str] = DEMO_POSTCODES) -> Path:
    """The demo county's pack (services/synthetic/county_pack.py) with these postcodes as homes, and
    the reference files its manifest names."""
    folder = write_pack(into, [_home(p) for p in postcodes], build_sites(random.Random(SITES_SEED)))
    write_reference(folder, build_directory())
    return folder


@cache
def demo_county_pack() -> CountyPack:
    with tempfile.TemporaryDirectory() as folder:
        return read_pack(demo_pack(Path(folder)))


@cache
def demo_network() -> Network:
    return network_from_pack(demo_county_pack(), read_config())


def _home(postcode: str) -> tuple[District, Place, str]:
    outward = postcode.split(maxsplit=1)[0]
    for where in DISTRICTS:
        for place in where.places:
            if outward in place.outcodes:
                return where, place, postcode
    raise KeyError(f"{postcode} is in none of the demo county's places")
