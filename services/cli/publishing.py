"""The durable publisher a CLI command publishes through: started on the broker, flushed and
closed when the command ends, and the operator told when messages stay in the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from services.core.broker import require_bootstrap
from services.core.publisher import DurablePublisher
from services.core.settings import Settings


@contextmanager
def publishing(settings: Settings, out: Console) -> Iterator[DurablePublisher]:
    """A started publisher; at the end, what the broker took within 30 s is delivered and the rest
    waits in the outbox (said on `out`). No broker: a `BrokerUnavailableError` saying how to start one."""
    publisher = DurablePublisher(settings, require_bootstrap(settings)).start()
    try:
        yield publisher
    finally:
        delivered = publisher.flush(30)
        publisher.close()
        if not delivered:
            out.print("[yellow]the broker did not take everything yet; the rest waits in the outbox[/]")
