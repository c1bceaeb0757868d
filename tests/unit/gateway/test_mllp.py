"""HL7 v2 ACKs (pure builder) and the MLLP transport over a real TCP socket on 127.0.0.1: framing,
an oversize frame answered AR (never a reset), the idle timeout and the connection cap."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectors.base import Outcome, SourceContext
from connectors.hl7v2.ack import ack_code, build_ack, refusal_ack
from connectors.hl7v2.connector import Hl7v2Connector
from schemas.errors import TransportError
from services.gateway.mllp import END_BLOCK, Handler, Limits, frame, send_mllp, serve_mllp, unframe

GOOD = (
    b"MSH|^~\\&|CHIS|ECH|HUBNET|FH|20250112093000+0000||ADT^A28^ADT_A05|C1|P|2.5\r"
    b"PID|1||9990001006^^^NHS^NH||TESTCHILD^Olivia||20250110|F\r"
)
BAD_NHS = GOOD.replace(b"9990001006", b"9990001007")
OLD_VERSION_BAD_NHS = BAD_NHS.replace(b"|P|2.5", b"|P|2.3")
connector = Hl7v2Connector()


def convert(message: bytes) -> list[Outcome]:
    return list(connector.convert(message, SourceContext(partner="essex-nhs")))


def acknowledge(message: bytes) -> bytes:
    return build_ack(message, convert(message))


def too_large(head: bytes, limit: int) -> bytes:
    return refusal_ack(head, f"larger than {limit} bytes")


HANDLER = Handler(message=acknowledge, oversize=too_large)


def segments(ack: bytes) -> dict[str, list[str]]:
    return {line[:3].decode(): line.decode().split("|") for line in ack.split(b"\r") if line}


def test_accepted_ack_is_addressed_back_and_echoes_the_control_id() -> None:
    now = datetime(2025, 1, 12, 9, 30, tzinfo=UTC)
    ack = build_ack(GOOD, convert(GOOD), control_id="A1", now=now)
    parts = segments(ack)
    assert parts["MSH"][2:6] == ["HUBNET", "FH", "CHIS", "ECH"]
    assert parts["MSH"][6] == "20250112093000+0000"
    assert parts["MSH"][8:12] == ["ACK^A28^ACK", "A1", "P", "2.5"]
    assert parts["MSA"] == ["MSA", "AA", "C1", ""]
    assert "ERR" not in parts


def test_mapping_error_gives_ae_with_reason_and_position() -> None:
    parts = segments(build_ack(BAD_NHS, convert(BAD_NHS)))
    assert parts["MSA"][1:3] == ["AE", "C1"]
    assert "modulus 11" in parts["MSA"][3]
    assert parts["ERR"][2] == "PID^1^3^1^1"
    assert parts["ERR"][3] == "102^Data type error^HL70357"
    assert parts["ERR"][4] == "E"
    assert "modulus 11" in parts["ERR"][8]


def test_versions_before_2_5_get_the_old_err_layout() -> None:
    parts = segments(build_ack(OLD_VERSION_BAD_NHS, convert(OLD_VERSION_BAD_NHS)))
    assert parts["MSA"][1] == "AE"
    assert parts["ERR"] == ["ERR", "PID^1^3^102&Data type error&HL70357"]


def test_every_problem_of_a_message_gets_an_err_of_its_own() -> None:
    two = BAD_NHS.replace(b"|20250110|F", b"|20251310|Q")
    three = two.replace(b"|P|2.5", b"|P|2.3")
    for message, layout in ((two, "2.5"), (three, "2.3")):
        ack = build_ack(message, convert(message)).decode()
        errs = [line.split("|") for line in ack.split("\r") if line.startswith("ERR")]
        assert ack_code(ack.encode()) == "AE"
        assert "3 problems: " in ack.split("\r")[1]
        if layout == "2.5":
            assert [e[2] for e in errs] == ["PID^1^3^1^1", "PID^1^7^^1", "PID^1^8"]
            assert ["modulus 11" in errs[0][7], "calendar" in errs[1][7], "sex" in errs[2][7]] == [True] * 3
            assert [e[7] for e in errs] == [e[8] for e in errs]
        else:
            assert [e[1].split("^")[:3] for e in errs] == [
                ["PID", "1", "3"],
                ["PID", "1", "7"],
                ["PID", "1", "8"],
            ]


@pytest.mark.parametrize(
    ("message", "condition"),
    [
        (b"this is not HL7 at all", "100"),
        (GOOD.replace(b"ADT^A28^ADT_A05", b"BAR^P01^BAR_P01"), "200"),
        (GOOD.replace(b"|P|2.5", b"|P|2.1"), "203"),
        (GOOD.replace(b"PID|", b"P D|"), "100"),
    ],
)
def test_unreadable_or_unsupported_messages_get_ar(message: bytes, condition: str) -> None:
    ack = build_ack(message, convert(message))
    parts = segments(ack)
    assert ack_code(ack) == "AR"
    assert re.findall(r"(\d{3})[\^&][A-Z]", "|".join(parts["ERR"])) == [condition]


def test_reason_text_is_escaped_with_the_senders_delimiters() -> None:
    unsupported = GOOD.replace(b"ADT^A28^ADT_A05", b"BAR^P01^BAR_P01")
    msa = segments(build_ack(unsupported, convert(unsupported)))["MSA"]
    assert "BAR\\S\\P01 is not supported" in msa[3]
    assert len(msa) == 4  # no stray field separators from the reason


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[str, int]]:
    """A real MLLP listener on a free loopback port, in its own event loop thread."""
    loop = asyncio.new_event_loop()
    limits = Limits(max_message_bytes=4096, idle_timeout_s=1.0, max_connections=3)
    server = loop.run_until_complete(serve_mllp("127.0.0.1", 0, HANDLER, limits))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", port
    loop.call_soon_threadsafe(server.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


def read_acks(connection: socket.socket, count: int) -> list[bytes]:
    received = b""
    while received.count(END_BLOCK) < count:
        chunk = connection.recv(65536)
        assert chunk, "the listener closed the connection"
        received += chunk
    return [unframe(part + END_BLOCK) for part in received.split(END_BLOCK)[:count]]


def test_listener_acks_good_bad_and_garbage(listener: tuple[str, int]) -> None:
    host, port = listener
    assert ack_code(send_mllp(host, port, GOOD)) == "AA"
    rejected = send_mllp(host, port, BAD_NHS)
    assert ack_code(rejected) == "AE"
    assert "PID-3[1].1" in segments(rejected)["MSA"][3]
    assert ack_code(send_mllp(host, port, b"\x00\x01 garbage")) == "AR"


def test_several_messages_on_one_connection_are_answered_in_order(listener: tuple[str, int]) -> None:
    messages = [GOOD.replace(b"|C1|", f"|C{n}|".encode()) for n in range(2, 6)] + [BAD_NHS]
    with socket.create_connection(listener, timeout=10) as connection:
        connection.sendall(b"".join(frame(m) for m in messages))
        acks = read_acks(connection, len(messages))
    assert [segments(a)["MSA"][1:3] for a in acks] == [
        ["AA", "C2"],
        ["AA", "C3"],
        ["AA", "C4"],
        ["AA", "C5"],
        ["AE", "C1"],
    ]


def test_a_message_split_across_tcp_reads_is_reassembled(listener: tuple[str, int]) -> None:
    data = frame(GOOD)
    with socket.create_connection(listener, timeout=10) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (data[:1], data[1:40], data[40:-1], data[-1:]):
            connection.sendall(piece)
            time.sleep(0.05)
        (ack,) = read_acks(connection, 1)
    assert segments(ack)["MSA"][1:3] == ["AA", "C1"]


def test_a_failing_handler_closes_without_ack_so_the_sender_resends() -> None:
    def broken(_message: bytes) -> bytes:
        raise TransportError("broker down")

    async def scenario() -> None:
        server = await serve_mllp("127.0.0.1", 0, Handler(message=broken, oversize=too_large))
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(TransportError, match="closed without an ACK"):
                await asyncio.to_thread(send_mllp, "127.0.0.1", port, GOOD, 5.0)

    asyncio.run(scenario())


def test_client_reports_no_listener() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError, match="no MLLP answer"):
        send_mllp("127.0.0.1", port, GOOD, timeout=2)


def test_an_oversize_frame_is_read_to_its_end_and_answered_ar_then_the_connection_goes_on(
    listener: tuple[str, int],
) -> None:
    """A 17 MB frame used to reset the connection, so the sender resent it forever."""
    big = GOOD + b"NTE|1||" + b"x" * 200_000 + b"\r"
    with socket.create_connection(listener, timeout=10) as connection:
        connection.sendall(frame(big) + frame(GOOD))
        first, second = read_acks(connection, 2)
    assert segments(first)["MSA"][1:3] == ["AR", "C1"]
    assert "larger than 4096 bytes" in segments(first)["MSA"][3]
    assert ack_code(second) == "AA"


def test_a_silent_connection_is_closed_after_the_idle_timeout(listener: tuple[str, int]) -> None:
    with socket.create_connection(listener, timeout=10) as connection:
        started = time.monotonic()
        connection.sendall(b"\x0bMSH|^~\\&|half a frame")
        assert connection.recv(100) == b"", "closed without an answer"
        assert 0.5 < time.monotonic() - started < 5


def test_connections_over_the_cap_are_closed_and_the_others_served(listener: tuple[str, int]) -> None:
    held = [socket.create_connection(listener, timeout=10) for _ in range(3)]
    try:
        for connection in held:
            connection.sendall(frame(GOOD))
            assert ack_code(read_acks(connection, 1)[0]) == "AA"
        with socket.create_connection(listener, timeout=10) as extra:
            assert extra.recv(100) == b"", "the fourth connection is closed at once"
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.1)
    assert ack_code(send_mllp(*listener, GOOD)) == "AA", "a freed place is taken again"
