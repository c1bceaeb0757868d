"""`hubnet up` (what `make run` calls): the whole product on the embedded defaults.

Order: broker (embedded unless KAFKA_BOOTSTRAP_SERVERS is set) -> topics -> demo accounts -> the
stream workers and HTTP services as child processes -> sample partner files -> a small generated
county replayed as live traffic -> status and addresses -> wait for Ctrl-C, restarting any service
that dies or stalls (services/core/supervisor.py) -> stop in reverse order, leaving no process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from schemas.topics import catalogue
from services.cli.runtime import fail, friendly_errors, start
from services.cli.status import render
from services.core import kafka_clients, topics
from services.core.broker import forget_running, free_port, record_running, resolve_bootstrap, start_embedded
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.core.supervisor import Supervisor
from services.gateway.replays import ReplayDoor
from services.gateway.service import Gateway
from services.ingest.pacing import parse_rate
from services.ops.status import collect
from services.stack.demo_traffic import DEMO_OPERATOR, CountyReplay, ensure_county, feed_samples
from services.stack.processes import ServiceSpec, hubnet, port_or_free, stack_services
from services.synthetic.county_pack import PACK_DIR
from services.web.sessions import session_secret

out = Console()
SAMPLES = Path("samples")
API_PORT = 8090
SECRET_VARIABLE = "HUBNET_SESSION_SECRET"  # noqa: S105 - the variable name, not a secret
DEMO_PASSWORD = "hubnet-demo-password"  # noqa: S105 - the documented demo accounts of the embedded default


@friendly_errors
def up(
    samples: Annotated[
        Path, typer.Option(help="Folder of sample feeds, one sub-folder per format.")
    ] = SAMPLES,
    rate: Annotated[
        str, typer.Option(help="Demo county replay rate ('20/s', 'max'); '0' for none.")
    ] = "20/s",
    once: Annotated[
        bool,
        typer.Option("--once", help="Start, feed the samples, wait until the services answer, then stop."),
    ] = False,
) -> None:
    """Start the whole stack with demo traffic, print where to look, and run until Ctrl-C."""
    settings = start()
    secret = run_session_secret(settings)  # production refuses before anything starts
    data_dir = settings.data_dir.resolve()
    with ExitStack() as stack:
        bootstrap = resolve_bootstrap(settings)
        if bootstrap is None:
            broker = start_embedded(settings)
            stack.callback(broker.stop)
            record_running(settings, broker)
            stack.callback(forget_running, settings)
            bootstrap = broker.bootstrap
            out.print(f"[green]embedded broker[/] at {bootstrap} (memory only)")
        admin = kafka_clients.admin(settings, bootstrap)
        report = topics.apply(admin, catalogue())
        admin.close()
        out.print(f"topics: {len(report.created)} created, {len(report.present)} already present")

        env = {
            **{k: v for k, v in os.environ.items() if k != SECRET_VARIABLE},  # the API's alone
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "HUBNET_DATA_DIR": str(data_dir),
            "HUBNET_BROKER_PROFILE": "embedded" if settings.embedded else "kafka",
        }
        county = _prepare_demo(env, data_dir)
        supervisor = Supervisor(env=env, log_dir=data_dir / "logs")
        stack.callback(supervisor.stop)
        services = stack_services(port_or_free(settings.ingest_port), port_or_free(API_PORT))
        for spec in services:
            health_port = free_port()  # workers serve /healthz there; web services on their own port
            health = spec.url or f"http://127.0.0.1:{health_port}"
            own = {SECRET_VARIABLE: secret} if spec.name == "api" else {}
            supervisor.start(
                spec.name, spec.argv, {"HUBNET_HEALTH_PORT": str(health_port), **own},
                health_url=f"{health}/healthz",
            )  # fmt: skip
        _wait_until_serving(supervisor, services)

        publisher = DurablePublisher(settings, bootstrap).start()
        stack.callback(publisher.close)
        gateway = Gateway.open(settings, publisher)
        stack.callback(gateway.close)
        door = ReplayDoor(gateway, DEMO_OPERATOR, "the `make run` demo traffic")
        if samples.is_dir():
            feed_samples(door, gateway, publisher, samples, lambda line: out.print(f"  {line}"))
        per_second = parse_rate(rate) if rate != "0" else 0.0
        if per_second != 0.0 and not once:
            replay = CountyReplay(door, gateway, county, per_second or 1e9)
            replay.start()
            stack.callback(replay.stop)
            out.print(f"replaying the demo county in {county} at {rate} (`hubnet status` shows it flowing)")
        publisher.flush(30)
        render(collect(settings))
        _print_addresses(services, data_dir)
        if once:
            return
        _run_until_stopped(supervisor)


def run_session_secret(settings: Settings) -> str:
    """The key every API process of this run signs sessions with: the configured one, or, on the
    embedded demo, one made for this run (production refuses to start without one). Only the API
    processes are given it: workers and the ingest door (file drop, connectors) never hold it."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    return session_secret(settings).hex()


def _wait_until_serving(supervisor: Supervisor, services: list[ServiceSpec], timeout_s: float = 90.0) -> None:
    """Every HTTP service answers /healthz, or stop with the log of the one that failed."""
    deadline = time.monotonic() + timeout_s
    pending = [s for s in services if s.url]
    while pending:
        for child in supervisor.failed():
            fail(f"{child.name} exited during start-up; its last lines:\n{child.tail()}")
        pending = [s for s in pending if not _answers(f"{s.url}/healthz")]
        if time.monotonic() > deadline:
            fail(f"{', '.join(s.name for s in pending)} did not answer within {timeout_s:.0f}s")
        time.sleep(0.3)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _print_addresses(services: list[ServiceSpec], data_dir: Path) -> None:
    urls = {s.name: s.url for s in services}
    out.print(
        f"\n[bold]hub staff web UI[/]   {urls['api']}/   (sign in as e.g. [bold]health-visitor[/], "
        f"[bold]social-worker[/], [bold]hub-manager[/] or [bold]operations[/]; password {DEMO_PASSWORD})"
    )
    out.print(f"[bold]timeline API[/]       {urls['api']}/docs")
    out.print(f"[bold]partner ingest API[/] {urls['ingest']}/docs   (add a partner: hubnet partners add)")
    out.print(f"[bold]logs[/]               {data_dir / 'logs'}/<service>.log")


def _run_until_stopped(supervisor: Supervisor) -> None:
    out.print("\n[bold]hubnet is running.[/] Ctrl-C stops everything.")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(2.0):
            for sentence in supervisor.heal():  # dead or stalled services come back, with backoff
                out.print(sentence, style="yellow", markup=False, highlight=False, soft_wrap=True)
    except KeyboardInterrupt:
        pass
    out.print("stopping...")


def _prepare_demo(env: dict[str, str], data_dir: Path) -> Path:
    """Demo accounts, and the demo county generated and its pack loaded as any county's is
    (`hubnet county load`), before the workers start; returns the county's folder."""
    county = ensure_county(data_dir / "demo-county")
    for command in (
        ("users", "demo", "--password", DEMO_PASSWORD),
        ("county", "load", str(county / PACK_DIR), "--by", DEMO_OPERATOR),
    ):
        subprocess.run([*hubnet(*command)], env=env, check=True, stdout=subprocess.DEVNULL)
    return county
