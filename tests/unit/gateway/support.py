"""A tiny line-per-record connector and an in-memory publisher, so gateway tests need no real format.

`test-lines`: each line is `record_id,version,nhs_number,event_type[,sender]`. The optional sender
column lets tests exercise the claimed-sender check.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from connectors import registry
from connectors.base import Connector, Record, SourceContext
from schemas.envelope import HubEvent, Identifier
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, local_system, nhs_check_digit, nhs_number_is_valid
from services.core.outbox import OutboundMessage
from services.core.settings import Settings
from services.gateway import claims
from services.gateway.partners import Partner
from services.gateway.service import Gateway, Limits

FORMAT = "test-lines"
OCCURRED = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def nhs(n: int) -> str:
    """The n-th valid NHS number of the test range 999 000 0000 - 999 999 9999."""
    candidate = 999000000 + n
    while (digit := nhs_check_digit(str(candidate))) is None:
        candidate += 1
    return f"{candidate}{digit}"


def line(record_id: str, n: int = 1, version: str = "1", code: str = "encounter", sender: str = "") -> str:
    return ",".join([record_id, version, nhs(n), code, sender]).rstrip(",")


class LinesConnector(Connector):
    name = FORMAT
    title = "Test lines"

    def split(self, data: bytes) -> Iterator[Record]:
        for number, text in enumerate(data.decode().splitlines(), start=1):
            if text.strip():
                yield Record(raw=text.encode(), ref=f"line {number}")

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        cells = record.raw.decode().split(",")
        if len(cells) < 4:
            raise MappingError(
                "expected 4 columns", f"{record.ref}, column event_type", hint="add the columns"
            )
        record_id, version, number, code = cells[:4]
        if not nhs_number_is_valid(number):
            raise MappingError("the NHS number fails its check digit", f"{record.ref}, column nhs_number")
        return [
            HubEvent.create(
                event_type=EventType(code), source_partner=ctx.partner,
                source_system=local_system(ctx.partner, "id"),
                source_record_id=record_id, record_version=version, occurred_at=OCCURRED,
                subjects=[Identifier(system=NHS_NUMBER, value=number)], ingested_at=ctx.received_at,
                trace_id=ctx.trace_id,
            )
        ]  # fmt: skip


def _senders(data: bytes) -> Iterator[str]:
    for text in data.decode(errors="replace").splitlines():
        cells = text.split(",")
        if len(cells) > 4 and cells[4]:
            yield cells[4]


claims.EXTRACTORS.setdefault(FORMAT, _senders)


def connector_for(fmt: str) -> Connector:
    """The test connector by name, else whatever the real registry has."""
    return LinesConnector() if fmt == FORMAT else registry.get(fmt)


@dataclass
class ListPublisher:
    """Keeps what would go to the outbox, by topic."""

    messages: list[OutboundMessage] = field(default_factory=list)

    def publish(self, messages: Iterable[OutboundMessage]) -> int:
        batch = list(messages)
        self.messages.extend(batch)
        return len(batch)

    def on(self, topic: str) -> list[OutboundMessage]:
        return [m for m in self.messages if m.topic == topic]


def open_gateway(place: Path | Settings, publisher: ListPublisher, limits: Limits | None = None) -> Gateway:
    """A gateway whose database is in a data folder, or where settings put it (tests/databases.py)."""
    return Gateway.open(place, publisher, limits, connector_for=connector_for)


def add_partner(gateway: Gateway, code: str = "nelft-hv", **fields: object) -> str:
    """Register a partner (ODS code RAT by default) and return its first key."""
    values: dict[str, object] = {"name": f"Partner {code}", "org_ids": ("RAT",)} | fields
    return gateway.partners.add(Partner.model_validate({"code": code, **values})).token


class SlowLinesConnector(LinesConnector):
    """`test-lines` taking 50 ms per record, so a test can kill a process in the middle of a file."""

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        time.sleep(0.05)
        return super().map_record(record, ctx)
