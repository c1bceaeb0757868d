"""The pipeline's CPU per event, stage by stage, round after round as the broker fills up.

`hubnet bench` reports one average over its throughput phase; this feeds the same county through
the same stack (private embedded broker, `hubnet worker identity` and `timeline` processes, the
connectors and durable publisher in this process, one feeder) in rounds of `--records` records,
waiting until each round is visible in the timeline store, and prints each stage's CPU per event
for each round, and each stage's CPU while idle before and after. Shows how a stage's cost moves
with what the broker already holds (docs/proof.md). A script, not a timed test.

Run: python tests/bench/bench_pipeline_rounds.py [--rounds 5] [--records 4000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from services.bench.pipeline import BenchStack, bench_stack, cached_county, feed_records, wait_visible
from services.core.broker import EmbeddedBroker, free_port
from services.synthetic.replay import deliveries

IDLE_S = 10.0


def _idle(stack: BenchStack, label: str) -> None:
    before = stack.cpu()
    time.sleep(IDLE_S)
    after = stack.cpu()
    shares = ", ".join(f"{stage} {100 * (after[stage] - before[stage]) / IDLE_S:.1f}%" for stage in before)
    print(f"idle {label}: CPU of one core by stage: {shares}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--records", type=int, default=4000, help="records per round")
    parser.add_argument("--families", type=int, default=600)
    parser.add_argument("--data-dir", type=Path, default=Path(".hubnet"))
    args = parser.parse_args()
    county = cached_county(args.data_dir.resolve(), args.families, 2024, print)
    records = list(deliveries(county))
    run_dir = args.data_dir.resolve() / "bench" / f"rounds-{os.getpid()}"
    with EmbeddedBroker(port=free_port()) as broker, bench_stack(broker, run_dir) as stack:
        warm = feed_records(stack, records[:300])
        wait_visible(stack, set(warm), 180)
        _idle(stack, "before")
        start, held = 300, len(warm)
        for number in range(1, args.rounds + 1):
            chunk = records[start : start + args.records]
            start += len(chunk)
            before, began = stack.cpu(), time.perf_counter()
            ids = feed_records(stack, chunk)
            wait_visible(stack, set(ids), 300)
            after, took = stack.cpu(), time.perf_counter() - began
            held += len(ids)
            costs = ", ".join(
                f"{stage} {(after[stage] - before[stage]) / len(ids) * 1e6:,.0f}" for stage in before
            )
            print(
                f"round {number}: {len(ids):,} events at {len(ids) / took:,.0f}/s, {held:,} held by then; "
                f"CPU µs per event: {costs}",
                flush=True,
            )
        _idle(stack, "after")
    shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
