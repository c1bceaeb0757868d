"""Service directory imports onto the compacted `fh.directory` topic, rejections onto `fh.dlq`."""

from __future__ import annotations

from connectors.base import SourceContext
from connectors.oruk.importer import DirectoryImport
from schemas.topics import DIRECTORY
from services.core.dead_letters import dead_letter_for, dead_letter_message
from services.core.outbox import OutboundMessage

CONNECTOR = "oruk"


def directory_messages(result: DirectoryImport, ctx: SourceContext) -> list[OutboundMessage]:
    """One message per resource (key `ResourceType/id`, so compaction keeps the latest) and per rejection."""
    messages = [OutboundMessage(DIRECTORY, r.key.encode(), r.to_bytes()) for r in result.resources]
    messages += [dead_letter_message(dead_letter_for(r, CONNECTOR, ctx)) for r in result.rejections]
    return messages
