"""MLLP transport: the TCP framing HL7 v2 feeds use, as an asyncio server and a small client.

Framing (HL7 v2 Transport Specification: MLLP release 2): `0x0B` message `0x1C 0x0D`. The server
reads frames from each connection in order and answers each message with one ACK before reading
the next, as senders expect; frames may arrive split across TCP reads or several in one read.

This is a transport only: what a message means, and which ACK it earns, is the handler's business
(`hl7_feed.Hl7Feed` puts every message through the gateway's one submission step). The server
holds the line itself:

- a frame larger than `max_message_bytes` is read to its end without being kept, then answered
  with the handler's `oversize` ACK (an AR with the reason): resetting the connection made senders
  resend the same frame forever;
- a connection silent for `idle_timeout_s` (or stuck mid-frame that long) is closed;
- at most `max_connections` connections are served at once; one more is closed straight away.

Delivery: the ACK is sent only after the handler returns, so it is the handler's commit point. A
handler that raises sends no ACK and the connection is closed, so the sender resends the message
(at-least-once; the gateway's idempotency ledger recognises the resend). The handler runs in a
worker thread, so a slow broker never blocks other connections.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from connectors.hl7v2.ack import ack_code
from schemas.errors import TransportError

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
HEAD_BYTES = 64 * 1024
"""What an oversize frame's ACK is built from: enough for its MSH segment."""

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Handler:
    """What the server calls: `message` for each frame (message bytes -> ACK bytes), `oversize` for
    a frame over the limit (its first bytes and the limit -> ACK bytes)."""

    message: Callable[[bytes], bytes]
    oversize: Callable[[bytes, int], bytes]


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 10 * 1024 * 1024
    idle_timeout_s: float = 60.0
    max_connections: int = 16


def frame(message: bytes) -> bytes:
    """Wrap one message in MLLP start and end blocks."""
    return START_BLOCK + message + END_BLOCK


def unframe(data: bytes) -> bytes:
    """The message inside one frame (bytes before the start block are line noise and dropped)."""
    start = data.find(START_BLOCK)
    body = data[start + 1 :] if start >= 0 else data
    return body.removesuffix(END_BLOCK)


async def _skip_frame(reader: asyncio.StreamReader, overrun: int, timeout_s: float) -> bytes:
    """Read the rest of an oversize frame without keeping it (up to its end block, so a frame sent
    right behind it is still read); returns its first bytes. `overrun` is what the first
    `LimitOverrunError` said may be consumed."""
    head = b""
    while True:
        chunk = await asyncio.wait_for(reader.readexactly(overrun), timeout_s)
        head += chunk[: max(0, HEAD_BYTES - len(head))]
        try:
            last = await asyncio.wait_for(reader.readuntil(END_BLOCK), timeout_s)
        except asyncio.LimitOverrunError as error:
            overrun = error.consumed
        else:
            return head + last[: max(0, HEAD_BYTES - len(head))]


class _Server:
    """One listener's connections: the cap, the idle timeout and the frame loop."""

    def __init__(self, handler: Handler, limits: Limits) -> None:
        self._handler = handler
        self._limits = limits
        self._open = 0

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        if self._open >= self._limits.max_connections:
            log.warning("mllp.connection_refused", peer=peer, reason="connection cap",
                        max_connections=self._limits.max_connections)  # fmt: skip
            writer.close()
            return
        self._open += 1
        log.info("mllp.connected", peer=peer)
        try:
            while await self._one_frame(reader, writer, peer):
                pass
        except TimeoutError:
            log.warning("mllp.idle_timeout", peer=peer, idle_timeout_s=self._limits.idle_timeout_s)
        except (ConnectionError, asyncio.IncompleteReadError):
            log.warning("mllp.connection_lost", peer=peer)
        finally:
            self._open -= 1
            writer.close()

    async def _one_frame(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> bool:
        """Answer one frame; False once the sender closed or a handler failed."""
        limits = self._limits
        try:
            data = await asyncio.wait_for(reader.readuntil(END_BLOCK), limits.idle_timeout_s)
        except asyncio.IncompleteReadError:
            return False  # the sender closed the connection
        except asyncio.LimitOverrunError as error:
            head = await _skip_frame(reader, error.consumed, limits.idle_timeout_s)
            log.warning("mllp.frame_too_large", peer=peer, limit=limits.max_message_bytes)
            ack = await asyncio.to_thread(self._handler.oversize, unframe(head), limits.max_message_bytes)
        else:
            try:
                ack = await asyncio.to_thread(self._handler.message, unframe(data))
            except Exception as error:  # no ACK: the sender will resend
                log.error("mllp.handler_failed", peer=peer, error_type=type(error).__name__)
                return False
        writer.write(frame(ack))
        await writer.drain()
        log.info("mllp.acknowledged", peer=peer, ack=ack_code(ack))
        return True


async def serve_mllp(host: str, port: int, handler: Handler, limits: Limits | None = None) -> asyncio.Server:
    """Start listening and return the server (port 0 picks a free one: read `sockets[0]`).

    Run it with `async with server: await server.serve_forever()`; closing it stops new
    connections. Each message's ACK code is logged, never its content.
    """
    limits = limits or Limits()
    server = _Server(handler, limits)
    return await asyncio.start_server(server.connection, host, port, limit=limits.max_message_bytes)


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
