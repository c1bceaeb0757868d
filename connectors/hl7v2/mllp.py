"""MLLP transport: the TCP framing HL7 v2 feeds use, as an asyncio server and a small client.

Framing (HL7 v2 Transport Specification: MLLP release 2): `0x0B` message `0x1C 0x0D`. The server
reads frames from each connection in order and answers each message with one ACK before reading
the next, as senders expect; frames may arrive split across TCP reads or several in one read.

Delivery: the ACK is sent only after `handle` returns, so it is the caller's commit point. A
handler that publishes to Kafka must return only once the events (or dead letters) are durable;
if it raises, no ACK is sent and the connection is closed, so the sender resends the message
(at-least-once; event ids are deterministic, so the resend is idempotent downstream).

The handler is a plain function `handle(message: bytes) -> list[Outcome]` (for example
`lambda m: list(connector.convert(m, ctx))` plus publishing); it runs in a worker thread so a
slow broker never blocks other connections.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import structlog

from connectors.base import Outcome, Rejection
from connectors.hl7v2.ack import ack_code, build_ack
from schemas.errors import TransportError

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

Handler = Callable[[bytes], list[Outcome]]
log = structlog.get_logger(__name__)


def frame(message: bytes) -> bytes:
    """Wrap one message in MLLP start and end blocks."""
    return START_BLOCK + message + END_BLOCK


def unframe(data: bytes) -> bytes:
    """The message inside one frame (bytes before the start block are line noise and dropped)."""
    start = data.find(START_BLOCK)
    body = data[start + 1 :] if start >= 0 else data
    return body.removesuffix(END_BLOCK)


async def serve_mllp(
    host: str, port: int, handle: Handler, *, max_message_bytes: int = MAX_MESSAGE_BYTES
) -> asyncio.Server:
    """Start listening and return the server (port 0 picks a free one: read `sockets[0]`).

    Run it with `async with server: await server.serve_forever()`; closing it stops new
    connections. Each message's ACK code and control id are logged, never its content.
    """

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        log.info("mllp.connected", peer=str(peer))
        try:
            while True:
                try:
                    data = await reader.readuntil(END_BLOCK)
                except asyncio.IncompleteReadError:
                    break  # the sender closed the connection
                except asyncio.LimitOverrunError:
                    log.warning("mllp.frame_too_large", peer=str(peer), limit=max_message_bytes)
                    break
                message = unframe(data)
                try:
                    outcomes = await asyncio.to_thread(handle, message)
                except Exception as error:  # no ACK: the sender will resend
                    log.error("mllp.handler_failed", peer=str(peer), error_type=type(error).__name__)
                    break
                ack = build_ack(message, outcomes)
                writer.write(frame(ack))
                await writer.drain()
                log.info(
                    "mllp.acknowledged",
                    ack=ack_code(ack),
                    events=sum(not isinstance(o, Rejection) for o in outcomes),
                    rejections=sum(isinstance(o, Rejection) for o in outcomes),
                )
        except ConnectionError:
            log.warning("mllp.connection_lost", peer=str(peer))
        finally:
            writer.close()

    return await asyncio.start_server(on_connection, host, port, limit=max_message_bytes)


def send_mllp(host: str, port: int, message: bytes, timeout: float = 30.0) -> bytes:
    """Send one message and return the ACK (unframed). Raises `TransportError` when the
    listener closes the connection or does not answer within `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(frame(message))
            received = b""
            while END_BLOCK not in received:
                chunk = connection.recv(65536)
                if not chunk:
                    raise TransportError(f"the MLLP listener at {host}:{port} closed without an ACK")
                received += chunk
    except OSError as error:
        raise TransportError(f"no MLLP answer from {host}:{port}: {error}") from error
    return unframe(received[: received.index(END_BLOCK) + len(END_BLOCK)])
