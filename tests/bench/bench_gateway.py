"""Accepted events per second through the partner API over real HTTP (uvicorn on loopback).

`python tests/bench/bench_gateway.py`. Measures HTTP, authentication, the `test-lines` connector,
the idempotency store and the durable outbox write (SQLite, synchronous=FULL); the relay to Kafka is
not started, so broker throughput (see DESIGN.md) is not part of the figure.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from services.core.broker import free_port
from services.core.logging import configure_logging
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.gateway.app import create_app
from services.gateway.service import Gateway, Limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the test helpers' package
from tests.unit.gateway.support import FORMAT, add_partner, connector_for, line

SINGLE_POSTS = 300
BATCH_POSTS = 20
BATCH_SIZE = 100


def serve(gateway: Gateway) -> tuple[str, uvicorn.Server]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server


def run(client: httpx.Client, label: str, bodies: list[bytes], records: int) -> None:
    start = time.perf_counter()
    accepted = 0
    for body in bodies:
        response = client.post(f"/v1/events/{FORMAT}", content=body)
        accepted += response.json()["accepted"]
    elapsed = time.perf_counter() - start
    assert accepted == records, f"{accepted} of {records} accepted"
    print(
        f"{label:<28} {len(bodies):>5} posts {records:>6} events  {records / elapsed:>9,.0f} events/s  "
        f"{elapsed / records * 1e6:>8,.0f} µs/event  {elapsed / len(bodies) * 1e3:>7.2f} ms/post"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), log_level="WARNING")
        configure_logging(settings)
        publisher = DurablePublisher(settings, bootstrap="127.0.0.1:1")  # outbox only: relay not started
        gateway = Gateway.open(
            settings.data_dir, publisher, Limits(rate_per_s=1e6, burst=10**6), connector_for
        )
        key = add_partner(gateway, "bench", formats=(FORMAT,))
        url, server = serve(gateway)
        with httpx.Client(base_url=url, headers={"X-API-Key": key}) as client:
            run(client, "warm-up", [line(f"w{n}", n).encode() for n in range(20)], 20)
            run(
                client,
                "single record per post",
                [line(f"s{n}", n).encode() for n in range(SINGLE_POSTS)],
                SINGLE_POSTS,
            )
            batches = [
                "\n".join(line(f"b{b}-{n}", n) for n in range(BATCH_SIZE)).encode()
                for b in range(BATCH_POSTS)
            ]
            run(client, f"batch of {BATCH_SIZE} per post", batches, BATCH_POSTS * BATCH_SIZE)
        server.should_exit = True
        publisher.outbox.close()
        gateway.close()


if __name__ == "__main__":
    main()
