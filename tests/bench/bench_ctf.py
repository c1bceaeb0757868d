"""Benchmark of the `ctf` connector: a 600-pupil CTF built from the synthetic sample's pupils.

Run: python tests/bench/bench_ctf.py
"""

from __future__ import annotations

import re
from pathlib import Path

from bench_support import report

from connectors.education.connector import CtfConnector
from schemas.identifiers import upn_check_letter

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "ctf" / "ctf-transfer.xml"
PUPILS = 600


def batch() -> bytes:
    """The sample's pupils repeated with fresh valid UPNs, inside the sample's header."""
    text = SAMPLE.read_text()
    head, rest = text.split("<Pupil>", 1)
    pupils = re.findall(r"<Pupil>.*?</Pupil>", "<Pupil>" + rest, flags=re.DOTALL)
    tail = rest[rest.rindex("</Pupil>") + len("</Pupil>") :]
    body = []
    for n in range(PUPILS):
        serial = f"8812001{20 + n // 1000:02d}{n % 1000:03d}"
        upn = upn_check_letter(serial) + serial
        body.append(re.sub(r"<UPN>\w+</UPN>", f"<UPN>{upn}</UPN>", pupils[n % len(pupils)]))
    return (head + "".join(body) + tail).encode()


if __name__ == "__main__":
    report(CtfConnector(), batch())
