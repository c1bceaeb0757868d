"""Benchmark of the `hl7v2` connector: 2,000 messages (the sample feed's ADT^A28, ADT^A04,
VXU^V04, ORU^R01 and ADT^A31), split, mapped and validated.

Every copy of the feed is about a different child (own NHS numbers, visit and order numbers),
so no resource repeats between copies and the validation cache only helps where one message
repeats a resource itself, as in a real feed.

Run: python tests/bench/bench_hl7v2.py   (target: 3,000 messages/s per core)
"""

from __future__ import annotations

from pathlib import Path

from bench_support import report

from connectors.hl7v2.connector import Hl7v2Connector
from schemas.identifiers import nhs_check_digit

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7v2" / "family-hub-feed.hl7"
MESSAGES = 2000
PER_FEED = 5


def _nhs_numbers() -> list[str]:
    """Valid test-range NHS numbers (999 ...), two per copy of the feed: child and mother."""
    numbers = []
    serial = 999_100_000
    while len(numbers) < 2 * MESSAGES // PER_FEED:
        check = nhs_check_digit(str(serial))
        if check is not None:
            numbers.append(f"{serial}{check}")
        serial += 1
    return numbers


def batch() -> bytes:
    """The sample feed repeated, each copy about another child, each message its own MSH-10."""
    feed = SAMPLE.read_bytes().decode()
    numbers = _nhs_numbers()
    copies = []
    for n in range(MESSAGES // PER_FEED):
        copy = feed.replace("9990001006", numbers[2 * n]).replace("9990001014", numbers[2 * n + 1])
        for old in ("V-2025-0001", "IMM-5521", "HV-ORD-901", "CH00042"):
            copy = copy.replace(old, f"{old}-{n}")
        copies.append(copy.replace("|P|2.", f"-{n}|P|2."))
    return "".join(copies).encode()


if __name__ == "__main__":
    report(Hl7v2Connector(), batch())
