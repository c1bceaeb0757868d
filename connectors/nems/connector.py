"""The `nems` connector: NHS child health event messages (NEMS / Digital Child Health, FHIR STU3).

Thin on purpose: the message header rules live in `header`, STU3 -> R4 in `stu3_to_r4`, the
event in `mapping`. One message is one record: its resources describe one event together.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from connectors.base import Connector, Record, SourceContext
from connectors.common.fhir_input import wire_format
from connectors.nems.mapping import map_nems_message
from schemas.envelope import HubEvent


class NemsConnector(Connector):
    """NEMS event messages in (STU3, JSON or XML), one R4 hub event out per message.

    Delivery: pure and deterministic; a message's version (sequence number or change instant)
    decides its event id, so resends are idempotent and late older updates lose to newer ones.
    """

    name: ClassVar[str] = "nems"
    title: ClassVar[str] = "NHS child health events (NEMS / Digital Child Health STU3 messages)"
    media_types: ClassVar[tuple[str, ...]] = ("application/fhir+xml", "application/fhir+json")

    def split(self, data: bytes) -> Iterator[Record]:
        wire_format(data)  # reject non-FHIR bytes as a whole, before mapping
        yield Record(raw=data, ref="message")

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        return map_nems_message(record.raw, ctx)
