"""`hubnet listen hl7` as a real process: MLLP in, ACKs out, events and dead letters on the real broker;
the partner's registration holds on this door as on HTTP (foreign MSH-4 refused, audited)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from schemas.audit import AuditRecord
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.topics import AUDIT, DLQ, EVENTS, catalogue
from services.core import kafka_clients, topics
from services.core.broker import free_port
from services.core.settings import Settings
from services.gateway.mllp import send_mllp
from tests.conftest import REPO
from tests.integration.kafka_helpers import read_until
from tests.public_data import public_sample

pytestmark = pytest.mark.integration


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else "exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the listener did not open its port")


@contextmanager
def listening(
    settings: Settings, bootstrap: str, data_dir: Path, partner: str, *registration: str
) -> Iterator[int]:
    """`hubnet listen hl7` for `partner` (registered with `registration`: its name, ids, formats) as a
    real process on a free port; stopped with SIGTERM, as Kubernetes stops it: it must flush, then
    exit 0."""
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    port = free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "HUBNET_DATA_DIR": str(data_dir)}
    hubnet = [sys.executable, "-m", "services.cli"]
    subprocess.run(
        [*hubnet, "partners", "add", partner, *registration],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    process = subprocess.Popen(
        [*hubnet, "listen", "hl7", "--partner", partner, "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        assert process.wait(30) == 0


def test_listener_acks_and_publishes(settings: Settings, bootstrap: str, unique: str, tmp_path: Path) -> None:
    partner = f"rq8-{unique.lower()}"
    registration = ("--name", "Essex child health", "--org-id", "RQ8", "--sender-id", "ESSEX CHILD HEALTH")
    with listening(settings, bootstrap, tmp_path, partner, *registration, "--format", "hl7v2") as port:
        feed = (REPO / "samples" / "hl7v2" / "family-hub-feed.hl7").read_bytes()
        start = feed.index(b"MSH|")
        first = feed[start : feed.index(b"\rMSH|", start)]
        assert b"MSA|AA|" in send_mllp("127.0.0.1", port, first)
        wrong_digit = first.replace(b"9990001006^^^NHS", b"9990001007^^^NHS")
        refused = send_mllp("127.0.0.1", port, wrong_digit)
        assert b"MSA|AE|" in refused
        assert b"PID-3" in refused
        garbage = b"this is not HL7"
        assert b"MSA|AR|" in send_mllp("127.0.0.1", port, garbage)
        foreign = send_mllp("127.0.0.1", port, first.replace(b"|ESSEX CHILD HEALTH|", b"|RQ3|"))
        assert b"MSA|AR|" in foreign
        assert b"RQ3" in foreign

    def mine(records: list[Any]) -> list[bytes]:
        return [r.value for r in records if dict(r.headers).get("source_partner") == partner.encode()]

    events = mine(read_until(settings, bootstrap, EVENTS, lambda rs: bool(mine(rs)), timeout_s=10))
    assert events, "the accepted message's events reached fh.events"
    assert {HubEvent.from_bytes(v).source_partner for v in events} == {partner}
    dead = [
        DeadLetter.from_bytes(v)
        for v in mine(read_until(settings, bootstrap, DLQ, lambda rs: len(mine(rs)) >= 2))
    ]
    # HL7 records keep their bytes, with segments terminated by CR as the standard writes them
    assert sorted(d.original.rstrip(b"\r") for d in dead) == sorted([garbage, wrong_digit])

    def refused(records: list[Any]) -> list[AuditRecord]:
        audits = [AuditRecord.from_bytes(r.value) for r in records]
        return [a for a in audits if a.actor == partner and a.outcome == "denied"]

    (audit,) = refused(read_until(settings, bootstrap, AUDIT, lambda rs: bool(refused(rs))))
    assert "RQ3" in (audit.reason or "")


def test_listener_acks_every_problem_of_a_message_with_an_err_each(
    settings: Settings, bootstrap: str, unique: str, tmp_path: Path
) -> None:
    """#19 follow-up: the public VXU^V04 sample (microsoft/FHIR-Converter, HL7 v2.8) broken in PID-3's
    second repetition, PID-7, PID-8 and RXA-5 is answered AE with one ERR per problem (ERR-2 its
    position, ERR-3 its table 0357 code, ERR-7 and ERR-8 its reason), and its dead letter's reason
    lists all four."""
    partner = f"ghh-{unique.lower()}"
    vxu = public_sample("hl7v2-samples", "VXU-V04-01.hl7").read_bytes()
    broken = (
        vxu.replace(b"|198808181126+0215|M|", b"|19881318|Q|")
        .replace(b"|49281021588^TENIVAC^NDC|", b"||")
        .replace(b"~123456789^^^USSSA^SS|", b"~9990001007^^^NHS^NH|")
    )
    registration = ("--name", "GHH immunisations", "--org-id", "GHHSFacility", "--format", "hl7v2")
    with listening(settings, bootstrap, tmp_path, partner, *registration) as port:
        ack = send_mllp("127.0.0.1", port, broken).decode()
    segments = [line.split("|") for line in ack.replace("\n", "\r").split("\r") if line]
    [msa] = [s for s in segments if s[0] == "MSA"]
    errs = [s for s in segments if s[0] == "ERR"]
    assert msa[1] == "AE"
    assert msa[3].startswith("4 problems: ")
    assert [(e[2], e[3].split("^")[0]) for e in errs] == [
        ("PID^1^3^2^1", "102"),
        ("PID^1^7^^1", "102"),
        ("PID^1^8", "102"),
        ("RXA^1^5", "101"),
    ]
    for err, words in zip(
        errs, ("modulus 11", "calendar", "administrative sex", "vaccine is missing"), strict=True
    ):
        assert words in err[7]
        assert err[7] == err[8]

    def mine(records: list[Any]) -> list[bytes]:
        return [r.value for r in records if dict(r.headers).get("source_partner") == partner.encode()]

    [dead] = [
        DeadLetter.from_bytes(v)
        for v in mine(read_until(settings, bootstrap, DLQ, lambda rs: bool(mine(rs))))
    ]
    for place in ("PID-3[2].1", "PID-7.1", "PID-8", "RXA-5"):
        assert f"{place}: " in dead.reason
