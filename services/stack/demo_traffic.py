"""Partner traffic for the demo: the sample files once, then a small generated county, replayed live.

A newcomer running `make run` should see every part at work: events arriving from each partner
format, a few dead letters, identities linked, timelines growing and referrals routed.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import orjson
import structlog

from connectors import registry
from connectors.base import SourceContext
from connectors.oruk.importer import load_directory
from services.core.publisher import Publisher
from services.gateway.replays import ReplayDoor, register_missing
from services.gateway.service import Gateway
from services.gateway.submission import RefusedError
from services.ingest.directory import directory_messages
from services.ingest.pacing import Pacer
from services.synthetic.county import GENERATOR_VERSION, Options
from services.synthetic.county import generate as generate_county
from services.synthetic.county_pack import PACK_DIR, REFERENCE_DIR
from services.synthetic.registrations import county_partners, sample_partners
from services.synthetic.replay import deliveries

log = structlog.get_logger(__name__)
DEMO_FAMILIES = 40
DEMO_SEED = 2017
DEMO_START = date(2019, 4, 1)
DEMO_END = date(2026, 3, 31)  # the county's history ends before today, so nothing is dated in the future
Report = Callable[[str], None]
DEMO_OPERATOR = "hubnet-up"
"""Who the demo traffic is audited as: it sends as each sample and county partner."""


def feed_samples(
    door: ReplayDoor, gateway: Gateway, publisher: Publisher, folder: Path, report: Report
) -> None:
    """Each `samples/<format>/` file through the gateway as partner `sample-<format>` (registered
    first, audited); the ORUK sample directory onto `fh.directory`."""
    known = set(registry.formats())
    register_missing(gateway, sample_partners(folder, known), DEMO_OPERATOR, "the `make run` demo samples")
    for fmt_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(p for p in fmt_dir.iterdir() if p.is_file() and p.suffix != ".md"):
            partner = f"sample-{fmt_dir.name}"
            ctx = SourceContext(partner=partner, source_name=path.name)
            if fmt_dir.name in known:
                try:
                    result = door.send(partner, fmt_dir.name, path.read_bytes(), ctx)
                except RefusedError as error:
                    report(f"{fmt_dir.name}/{path.name}: refused ({error})")
                    continue
                report(
                    f"{fmt_dir.name}/{path.name}: {result.accepted} event(s), {result.rejected} dead-lettered"
                )
            elif fmt_dir.name == "oruk":
                directory = load_directory(path.read_bytes())
                publisher.publish(directory_messages(directory, ctx))
                report(f"{fmt_dir.name}/{path.name}: {len(directory.services)} service(s) in the directory")


def ensure_county(folder: Path) -> Path:
    """A small demo county, generated once and kept in the data dir for later runs (generated again
    when it predates the county pack with its reference files, which `make run` loads, or was
    written by another generator version)."""
    manifest = folder / "manifest.json"
    if manifest.is_file() and (
        not (folder / PACK_DIR / REFERENCE_DIR).is_dir()
        or orjson.loads(manifest.read_bytes()).get("generator_version") != GENERATOR_VERSION
    ):
        shutil.rmtree(folder)
    if not (folder / "manifest.json").is_file():
        options = Options(families=DEMO_FAMILIES, seed=DEMO_SEED, start=DEMO_START, end=DEMO_END)
        generate_county(options, folder, lambda _stage, _done: None)
    return folder


class CountyReplay(threading.Thread):
    """Replays the county at a gentle rate in the background until done or stopped, each record as
    its county partner through the gateway (partners registered first, audited)."""

    def __init__(self, door: ReplayDoor, gateway: Gateway, county: Path, per_second: float) -> None:
        super().__init__(name="hubnet-demo-replay", daemon=True)
        self._door = door
        self._gateway = gateway
        self._county = county
        self._pacer = Pacer(per_second)
        self._halt = threading.Event()
        self.sent = 0

    def run(self) -> None:
        register_missing(self._gateway, county_partners(self._county), DEMO_OPERATOR, "the `make run` demo")
        for delivery in deliveries(self._county):
            if self._halt.is_set():
                return
            self._pacer.wait()
            ctx = SourceContext(partner=delivery.partner, source_name=delivery.path)
            with contextlib.suppress(RefusedError):  # audited by the gateway; the demo goes on
                self._door.send(delivery.partner, delivery.fmt, delivery.data, ctx)
            self.sent += 1
        log.info("demo.replay_done", records=self.sent)

    def stop(self) -> None:
        self._halt.set()
        self.join(10)
