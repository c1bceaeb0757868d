"""The `hl7v2` connector: HL7 v2.3 to 2.8 ADT, VXU and ORU messages, one or many per input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from connectors.base import Connector, Record, SourceContext
from connectors.hl7v2.batch import split_messages
from connectors.hl7v2.mapping import map_message
from connectors.hl7v2.parsing import parse_message
from schemas.envelope import HubEvent


class Hl7v2Connector(Connector):
    """Each message maps on its own: a bad message in a batch file is rejected alone."""

    name: ClassVar[str] = "hl7v2"
    title: ClassVar[str] = "HL7 v2 messages (ADT, VXU, ORU; versions 2.3 to 2.8)"
    media_types: ClassVar[tuple[str, ...]] = ("application/hl7-v2", "x-application/hl7-v2+er7", "text/plain")
    segmented: ClassVar[bool] = True

    def split(self, data: bytes) -> Iterator[Record]:
        return split_messages(data)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        return map_message(parse_message(record.raw), ctx)
