"""Benchmark of the `hl7v2` connector: 2,000 messages (the sample feed's ADT^A28, ADT^A04,
VXU^V04, ORU^R01 and ADT^A31), split, mapped and validated.

Every copy of the feed is about a different family: own NHS numbers, visit and order numbers,
family name, house numbers and phone numbers, and its own message and event times. So no resource,
and no name, address, identifier or time, repeats between copies; the caches only help where a
real feed repeats itself (the same child in each message about them, the same vaccine and LOINC
codes, the same units, the same senders).

Run: python tests/bench/bench_hl7v2.py   (target: 3,000 messages/s per core, CPU time)
"""

from __future__ import annotations

import re
from pathlib import Path

from bench_support import report

from connectors.hl7v2.connector import Hl7v2Connector
from schemas.identifiers import nhs_check_digit

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7v2" / "family-hub-feed.hl7"
MESSAGES = 2000
PER_FEED = 5
_TIME = re.compile(r"(\d{10})(\d{2})(\d{2})\+0000")  # YYYYMMDDHH, MM, SS: each copy its own times
TARGET = 3000


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


def _letters(n: int) -> str:
    """A distinct all-letter suffix per copy (A, B, ..., Z, BA, ...): names carry no digits."""
    text = ""
    while True:
        n, digit = divmod(n, 26)
        text = chr(ord("A") + digit) + text
        if not n:
            return text


def batch() -> bytes:
    """The sample feed repeated, each copy about another family, each message its own MSH-10."""
    feed = SAMPLE.read_bytes().decode()
    numbers = _nhs_numbers()
    copies = []
    for n in range(MESSAGES // PER_FEED):
        copy = feed.replace("9990001006", numbers[2 * n]).replace("9990001014", numbers[2 * n + 1])
        for old in ("V-2025-0001", "IMM-5521", "HV-ORD-901", "CH00042"):
            copy = copy.replace(old, f"{old}-{n}")
        copy = copy.replace("TESTCHILD", f"TESTCHILD{_letters(n)}")
        copy = copy.replace("1 Example Road", f"{n + 1} Example Road")
        copy = copy.replace("22 Sample Lane", f"{n + 22} Sample Lane")
        copy = copy.replace("01255 000001", f"01255 {n:06d}").replace("07700 900001", f"07700 9{n:05d}")
        copy = _TIME.sub(lambda m, n=n: f"{m[1]}{(int(m[2]) + n // 60) % 60:02d}{n % 60:02d}+0000", copy)
        copies.append(copy.replace("|P|2.", f"-{n}|P|2."))
    return "".join(copies).encode()


if __name__ == "__main__":
    report(Hl7v2Connector(), batch(), target=TARGET)
