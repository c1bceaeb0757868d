"""Partner traffic for the demo: the sample files once, then a small generated county, replayed live.

A newcomer running `make run` should see every part at work: events arriving from each partner
format, a few dead letters, identities linked, timelines growing and referrals routed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import structlog

from connectors import registry
from connectors.base import SourceContext
from connectors.oruk.importer import load_directory
from services.core.publisher import Publisher
from services.ingest.directory import directory_messages
from services.ingest.pacing import Pacer
from services.ingest.pipeline import Ingestor
from services.synthetic.county import Options
from services.synthetic.county import generate as generate_county
from services.synthetic.replay import deliveries

log = structlog.get_logger(__name__)
DEMO_FAMILIES = 40
DEMO_SEED = 2017
DEMO_START = date(2019, 4, 1)
DEMO_END = date(2026, 3, 31)  # the county's history ends before today, so nothing is dated in the future
Report = Callable[[str], None]


def feed_samples(ingestor: Ingestor, publisher: Publisher, folder: Path, report: Report) -> None:
    """Each `samples/<format>/` file through its connector as partner `sample-<format>`; the ORUK
    sample directory onto `fh.directory`."""
    known = set(registry.formats())
    for fmt_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(p for p in fmt_dir.iterdir() if p.is_file() and p.suffix != ".md"):
            ctx = SourceContext(partner=f"sample-{fmt_dir.name}", source_name=path.name)
            if fmt_dir.name in known:
                result = ingestor.ingest(fmt_dir.name, path.read_bytes(), ctx)
                accepted, rejected = len(result.accepted), len(result.rejected)
                report(f"{fmt_dir.name}/{path.name}: {accepted} event(s), {rejected} dead-lettered")
            elif fmt_dir.name == "oruk":
                directory = load_directory(path.read_bytes())
                publisher.publish(directory_messages(directory, ctx))
                report(f"{fmt_dir.name}/{path.name}: {len(directory.services)} service(s) in the directory")


def ensure_county(folder: Path) -> Path:
    """A small demo county, generated once and kept in the data dir for later runs."""
    if not (folder / "manifest.json").is_file():
        options = Options(families=DEMO_FAMILIES, seed=DEMO_SEED, start=DEMO_START, end=DEMO_END)
        generate_county(options, folder, lambda _stage, _done: None)
    return folder


class CountyReplay(threading.Thread):
    """Replays the county at a gentle rate in the background until done or stopped."""

    def __init__(self, ingestor: Ingestor, county: Path, per_second: float) -> None:
        super().__init__(name="hubnet-demo-replay", daemon=True)
        self._ingestor = ingestor
        self._county = county
        self._pacer = Pacer(per_second)
        self._halt = threading.Event()
        self.sent = 0

    def run(self) -> None:
        for delivery in deliveries(self._county):
            if self._halt.is_set():
                return
            self._pacer.wait()
            ctx = SourceContext(partner=delivery.partner, source_name=delivery.path)
            self._ingestor.ingest(delivery.fmt, delivery.data, ctx)
            self.sent += 1
        log.info("demo.replay_done", records=self.sent)

    def stop(self) -> None:
        self._halt.set()
        self.join(10)
