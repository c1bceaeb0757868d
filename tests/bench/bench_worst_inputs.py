"""The worst inputs at the body size limit, through the real partner API: peak memory and time of each.

`python tests/bench/bench_worst_inputs.py [--publish] [--only LABEL]`. Each input gets a gateway
server of its own in a child process (uvicorn on loopback, the durable outbox written, its relay
not started), where one partner may use every format, and is sent once to `/v1/validate/{format}`
(`--publish`: `/v1/events/{format}`, which also writes every record to the outbox). The server is
idle when its peak resident set is reset (`/proc/PID/clear_refs`), so the peak printed is that
input's. Target (issue #18): under 300 MB and under 5 s for a 10 MiB input. Figures, never
assertions; the bounded answer and the caps are tested in tests/security/test_bounded_cost*.py.
Two inputs are bad in every part (an ORU of OBX without a code, CSV rows with every cell wrong):
every problem of a record is listed (#19 follow-up), so reading on past the first must stay bounded.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the test helpers' package
from connectors.vaccination_csv.layout import COLUMNS as VACCINATION_LAYOUT
from connectors.vcs.connector import CSV_REQUIRED
from services.core.broker import free_port

MIB = 1024 * 1024
BODY = 10 * MIB - 1024  # just under the default request body limit (HUBNET_INGEST_MAX_BODY_MIB)
HL7_MSH = b"MSH|^~\\&|APP|RQ3|HUB|HUB|20240501093000||ADT^A04|%07d|P|2.5\r"


def _fill(head: bytes, unit: bytes, tail: bytes, size: int = BODY) -> bytes:
    """`head`, then `unit` repeated to `size` bytes in all, then `tail`."""
    return head + unit * ((size - len(head) - len(tail)) // len(unit)) + tail


def _csv_header(columns: str) -> bytes:
    return columns.encode() + b"\n"


HV_COLUMNS = "record_id,nhs_number,given_name,family_name,birth_date,review_type,review_date"
PATIENT = (
    b'{"fullUrl":"urn:uuid:p%d","resource":{"resourceType":"Patient","id":"p%d",'
    b'"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],'
    b'"name":[{"family":"Testperson","given":["Alex"]}],"birthDate":"2020-01-01"}}'
)
RECORD = b'{"record_id":"r%05d","notes":"%s"}'
VCS_COLUMNS = ",".join(CSV_REQUIRED)
HL7_ORU = (
    b"MSH|^~\\&|APP|RQ3|HUB|HUB|20240501093000||ORU^R01|1|P|2.5\r"
    b"PID|1||9990000018^^^NHS^NH||TEST^PERSON||20200101|M\rOBR|1||X1\r"
)
VACCINATION_COLUMNS = "|".join(c.upper() for c in VACCINATION_LAYOUT)
VACCINATION_BAD = (  # every cell of a `new` row that is checked, wrong: each row has ~20 problems
    "|".join("not-a-value" if c != "action_flag" else "new" for c in VACCINATION_LAYOUT) + "\n"
).encode()
INPUTS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "JSON array of empty objects": ("csc-events", lambda: _fill(b"[{}", b",{}", b"]")),
    "JSON array of empty objects (vcs)": ("vcs-json", lambda: _fill(b"[{}", b",{}", b"]")),
    "FHIR Bundle of empty entries": (
        "fhir",
        lambda: _fill(b'{"resourceType":"Bundle","type":"collection","entry":[{}', b",{}", b"]}"),
    ),
    "JSON nested 5 M deep": ("fhir", lambda: b"[" * (BODY // 2) + b"]" * (BODY // 2)),
    "a 10 M-digit integer": ("vcs-json", lambda: _fill(b'[{"organisation":', b"9", b"}]")),
    "CSV of one-byte rows": ("hv-csv", lambda: _fill(_csv_header(HV_COLUMNS), b"x\n", b"")),
    "CSV, 128 KiB header, tiny rows": (
        "vcs-csv",
        lambda: _fill(_csv_header(VCS_COLUMNS + "".join(f",c{n:06d}" for n in range(16_000))), b"x\n", b""),
    ),
    "CSV of one 10 MiB cell": ("hv-csv", lambda: _fill(_csv_header(HV_COLUMNS) + b'"', b"x", b'"\n')),
    "HL7 v2: many one-segment messages": (
        "hl7v2",
        lambda: b"".join(HL7_MSH % n for n in range(BODY // len(HL7_MSH % 0))),
    ),
    "XML nested 1 M deep": ("cin-census", lambda: _fill(b"", b"<a>", b"") + b"</a>" * 10),
    "10,000 JSON records of 1 KiB, each rejected": (
        "csc-events",
        lambda: (
            b"["
            + b",".join(b'{"record_id":"r%05d","notes":"%s"}' % (n, b"x" * 990) for n in range(10_000))
            + b"]"
        ),
    ),
    "FHIR Bundle of 10,000 Patients": (
        "fhir",
        lambda: (
            b'{"resourceType":"Bundle","type":"collection","entry":['
            + b",".join(PATIENT % (n, n) for n in range(10_000))
            + b"]}"
        ),
    ),
    "CTF of empty pupils": (
        "ctf",
        lambda: _fill(b"<CTfile><Header/><CTFpupilData>", b"<Pupil/>", b"</CTFpupilData></CTfile>"),
    ),
    "HL7 v2: one ORU of 10 MiB of OBX without a code": (
        "hl7v2",
        lambda: _fill(HL7_ORU, b"OBX|1|NM|||1|\r", b""),
    ),
    "HL7 v2: one ORU of OBX at the segment cap (300,000)": (  # the most it may cost: parsed and mapped
        "hl7v2",
        lambda: HL7_ORU + b"OBX|1|NM|||1|\r" * (300_000 - HL7_ORU.count(b"\r")),
    ),
    "CSV of 10,000 rows, every cell wrong": (
        "vaccination-csv",
        lambda: _csv_header(VACCINATION_COLUMNS) + VACCINATION_BAD * 10_000,
    ),
    "CIN census of empty children": (
        "cin-census",
        lambda: _fill(b"<Message><Header/><Children>", b"<Child/>", b"</Children></Message>"),
    ),
}


def serve(port: int, data_dir: Path) -> None:
    """The child process: a gateway API on `port`; prints the bench partner's key, then serves."""
    import uvicorn

    from connectors import registry
    from services.core import heap
    from services.core.logging import configure_logging
    from services.core.publisher import DurablePublisher
    from services.core.settings import Settings
    from services.gateway.app import create_app
    from services.gateway.partners import Partner
    from services.gateway.service import Gateway

    settings = Settings(data_dir=data_dir, log_level="WARNING", ingest_rate_per_s=1e6, ingest_burst=10**6)
    configure_logging(settings)
    publisher = DurablePublisher(settings, bootstrap="127.0.0.1:1")  # outbox only: relay not started
    gateway = Gateway.open(settings, publisher)
    for fmt in registry.formats():
        registry.get(fmt)  # every connector imported before the first measurement
    partner = Partner(code="bench-worst", name="Bench", org_ids=("RQ3",), formats=tuple(registry.formats()))
    print(gateway.partners.add(partner).token, flush=True)
    heap.settle()
    uvicorn.run(create_app(gateway), host="127.0.0.1", port=port, log_config=None, lifespan="off")


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM: not Linux?")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def measure(client: httpx.Client, pid: int, path: str, label: str, fmt: str, *, body: bytes) -> None:
    reset_peak(pid)
    start = time.perf_counter()
    response = client.post(f"{path}/{fmt}", content=body)
    elapsed = time.perf_counter() - start
    detail = response.json().get("detail", "") if response.status_code >= 400 else ""
    print(
        f"{label:<36} {fmt:<15} {len(body) / MIB:>5.1f} MiB  {response.status_code}  "
        f"{len(response.content):>9,} B  {elapsed:>6.2f} s  peak {peak_mb(pid):>6.0f} MB  {detail[:60]}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publish", action="store_true", help="POST /v1/events (outbox written) instead")
    parser.add_argument("--only", help="run the inputs whose label contains this text")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]))
        return
    path = "/v1/events" if args.publish else "/v1/validate"
    for label, (fmt, make) in INPUTS.items():
        if args.only is None or args.only in label:
            with tempfile.TemporaryDirectory() as tmp:
                run_one(Path(tmp), path, label, fmt, make())


def run_one(tmp: Path, path: str, label: str, fmt: str, body: bytes) -> None:
    """One input against a server of its own, so its peak is not raised by what an earlier input
    left on the heap."""
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), str(tmp)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        key = child.stdout.readline().strip()
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=300
        ) as client:
            for _ in range(100):
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            idle = peak_mb(child.pid)
            measure(client, child.pid, path, label, fmt, body=body)
            print(f"{'':<36} (server idle before: {idle:.0f} MB)")
    finally:
        child.kill()  # a server still busy with an input would finish it first on SIGTERM
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
