"""The referral worker routes on the county pack loaded with `hubnet county load`, through the real
(embedded) broker: with no pack it routes nothing and says why (its progress names the error, as
/readyz and `hubnet status` show it); the London pack loaded, the waiting referral for a London
postcode reaches a London service; a new pack version loaded while it runs is used for the next
referral, without a restart. And `hubnet worker referrals`, as a process, answers `/readyz` with
503 and the reason until a pack is loaded, then 200, without a restart. A pack whose services come
from its Open Referral UK directory (`services_from`) routes to the directory's services.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import faust
import httpx
import pytest
from kafka.admin import NewTopic
from typer.testing import CliRunner

from schemas.envelope import HubEvent
from schemas.topics import catalogue
from services.cli.main import app as cli
from services.core import kafka_clients, topics
from services.core.broker import free_port
from services.core.settings import Settings
from services.referrals.current import NO_PACK, CurrentNetwork
from services.referrals.service import ReferralService
from services.referrals.sla import ManualClock
from services.referrals.worker import WORKER, build
from services.streams.progress import progress_of
from tests.integration.kafka_helpers import read_all
from tests.unit.county.packs import PACKS_DIR
from tests.unit.referrals.support import NOW, referral

pytestmark = pytest.mark.integration
SOUTHALL = "UB2 4DE"  # a London postcode of the pack, in the Southall hub area


def load_pack(settings: Settings, bootstrap: str, folder: Path) -> None:
    """`hubnet county load FOLDER`, as an administrator runs it (audited on the broker)."""
    env = {"HUBNET_DATA_DIR": str(settings.data_dir), "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    result = CliRunner().invoke(cli, ["county", "load", str(folder), "--by", "test-admin"], env=env)
    assert result.exit_code == 0, result.output


def london_v2(into: Path) -> Path:
    """The London pack again, its speech and language service renamed (so a Task names the version)."""
    folder = into / "london-v2"
    shutil.copytree(PACKS_DIR / "london", folder)
    services = folder / "services.csv"
    services.write_text(services.read_text().replace("southall-speech,", "southall-talk,"))
    (folder / "county.toml").write_text(
        (folder / "county.toml").read_text().replace('version = "1"', 'version = "2"')
    )
    return folder


def routing_topics(settings: Settings, bootstrap: str, unique: str) -> tuple[str, str, str]:
    """This test's own source, sink and dead-letter topics, made with the catalogue's (fh.audit,
    where `hubnet county load` audits each load)."""
    source, sink, dlq = f"t.linked.{unique}", f"t.referrals.{unique}", f"t.dlq.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 1, 1), NewTopic(dlq, 1, 1)])
    topics.apply(admin, catalogue())
    admin.close()
    return source, sink, dlq


def router(
    settings: Settings, bootstrap: str, networks: CurrentNetwork, unique: str, names: tuple[str, str, str]
) -> tuple[faust.App, ReferralService]:
    """The referral worker on this test's topics (`routing_topics`), on a manual clock."""
    source, sink, dlq = names
    return build(
        settings, bootstrap, networks, clock=ManualClock(NOW), source=source, sink=sink, dlq=dlq,
        group=f"t-referrals-{unique}",
    )  # fmt: skip


def owners(records: list[Any]) -> list[str]:
    tasks = [HubEvent.from_bytes(r.value).entries[0].resource for r in records]
    return [str(t["owner"].get("identifier", {}).get("value", t["owner"]["display"])) for t in tasks]


def wait_for_error(timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        error = progress_of(WORKER).last_error
        if error:
            return error
        time.sleep(0.1)
    raise AssertionError("the referral worker never reported why it was not routing")


def test_the_worker_routes_on_the_loaded_london_pack_and_follows_a_new_version(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0, county_poll_s=0.2)
    names = source, sink, dlq = routing_topics(settings, bootstrap, unique)
    networks = CurrentNetwork.from_settings(settings)
    assert networks.version == 0
    worker, service = router(settings, bootstrap, networks, unique, names)
    first = referral("ealing-1", "slcn", serial=301, family="f-ealing-1", age=3, postcode=SOUTHALL)
    second = referral("ealing-2", "slcn", serial=302, family="f-ealing-2", age=3, postcode=SOUTHALL)
    producer = kafka_clients.producer(settings, bootstrap)

    def send(event: Any) -> None:
        producer.send(source, key=event.key, value=event.to_bytes(), headers=event.headers())
        producer.flush()

    async def scenario() -> tuple[str, list[Any], list[Any]]:
        await asyncio.to_thread(send, first)
        error = await asyncio.to_thread(wait_for_error)
        nothing_yet = await asyncio.to_thread(read_all, settings, bootstrap, sink, 0, 1.0)
        assert nothing_yet == [], "routed before any county pack was loaded"
        await asyncio.to_thread(load_pack, settings, bootstrap, PACKS_DIR / "london")
        after_v1 = await asyncio.to_thread(read_all, settings, bootstrap, sink, 1, 90.0)
        await asyncio.to_thread(load_pack, settings, bootstrap, london_v2(tmp_path))
        await asyncio.sleep(0.5)  # past HUBNET_COUNTY_POLL_S: the next event finds version 2
        await asyncio.to_thread(send, second)
        after_v2 = await asyncio.to_thread(read_all, settings, bootstrap, sink, 2, 60.0)
        return error, after_v1, after_v2

    async def go() -> tuple[str, list[Any], list[Any]]:
        await worker.start()
        try:
            return await scenario()
        finally:
            await worker.stop()

    error, after_v1, after_v2 = asyncio.run(go())
    producer.close()
    assert NO_PACK in error
    assert owners(after_v1) == ["southall-speech@southall-hub"]
    assert owners(after_v2) == ["southall-speech@southall-hub", "southall-talk@southall-hub"]
    assert networks.version == 2
    stored = service.store.find("1=1 ORDER BY created_at, referral_id")
    assert {r.district for r in stored} == {"southall"}  # the London hub area, as staff scopes name it
    assert not read_all(settings, bootstrap, dlq, 0, 1.0), "a referral waiting for a pack was dead-lettered"
    service.store.close()


def readiness(port: int, timeout_s: float = 60.0) -> tuple[int, list[str]]:
    """The worker's `/readyz` answer, once its health server answers at all."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5.0)
            return answer.status_code, list(answer.json()["problems"])
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_worker_process_is_not_ready_until_a_county_pack_is_loaded(
    tmp_path: Path, bootstrap: str
) -> None:
    settings = Settings(data_dir=tmp_path)
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    port = free_port()
    env = {
        **os.environ, "HUBNET_DATA_DIR": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "HUBNET_HEALTH_PORT": str(port), "HUBNET_COUNTY_POLL_S": "0.2", "HUBNET_LOG_FORMAT": "json",
    }  # fmt: skip
    env.pop("HUBNET_DATABASE_URL", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "worker", "referrals"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        status, problems = readiness(port)
        assert status == 503
        assert NO_PACK in problems
        load_pack(settings, bootstrap, PACKS_DIR / "london")
        deadline = time.monotonic() + 30
        while (status, problems) != (200, []) and time.monotonic() < deadline:
            time.sleep(0.2)
            status, problems = readiness(port)
        assert (status, problems) == (200, [])
        assert worker.poll() is None, "the worker restarted or died instead of following the pack"
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert "referrals.no_county_pack" in output


def test_the_worker_routes_to_the_services_of_a_packs_oruk_directory_after_county_load(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    """The Essex pack whose services come from its Open Referral UK directory (`services_from`):
    loaded with `hubnet county load`, a referral for a Jaywick baby reaches the directory's service
    at the directory's Jaywick location, as a services.csv row would."""
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0, county_poll_s=0.2)
    names = source, sink, dlq = routing_topics(settings, bootstrap, unique)
    load_pack(settings, bootstrap, PACKS_DIR / "essex-oruk")
    networks = CurrentNetwork.from_settings(settings)
    worker, service = router(settings, bootstrap, networks, unique, names)
    baby = referral(
        "jaywick-1", "infant-feeding-referral", serial=311, family="f-jaywick-1", age=1,
        postcode="CO15 2QT", consent=True,
    )  # fmt: skip
    producer = kafka_clients.producer(settings, bootstrap)
    producer.send(source, key=baby.key, value=baby.to_bytes(), headers=baby.headers())
    producer.flush()
    producer.close()

    async def go() -> list[Any]:
        await worker.start()
        try:
            return await asyncio.to_thread(read_all, settings, bootstrap, sink, 1, 90.0)
        finally:
            await worker.stop()

    routed = asyncio.run(go())
    assert owners(routed) == ["oruk-baby-feeding@loc-jaywick"]
    assert networks.version == 1
    stored = service.store.find("1=1")
    assert [r.district for r in stored] == ["jaywick"]
    assert not read_all(settings, bootstrap, dlq, 0, 1.0)
    service.store.close()
