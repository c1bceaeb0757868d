"""Cut a file or stream of HL7 v2 messages into one record per message.

Accepted layouts, mixed freely: one message; many messages one after another; FHS/BHS batch
envelopes (FHS, BHS, BTS and FTS lines are dropped, they carry no patient data); MLLP framing
(0x0B ... 0x1C 0x0D) as captured from a feed; segments ended by CR, LF or CRLF; a UTF-8 BOM at
the start of the file or of any message. Every MSH starts a new message. Each record's `raw`
is that message alone with CR segment ends, which the connector converts on its own (replay).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from connectors.base import Record
from connectors.common.values import BOM

_LINE_BREAK = re.compile(rb"\r\n|\r|\n|\x0b|\x1c")
_ENVELOPE = (b"FHS", b"BHS", b"BTS", b"FTS")


def split_messages(data: bytes) -> Iterator[Record]:
    """One `Record` per message, `ref` = `message N` in file order. Lines before the first MSH
    (other than envelopes) form a record of their own, which the mapping rejects as having no MSH."""
    current: list[bytes] = []
    count = 0
    for piece in _LINE_BREAK.split(data):
        line = piece.removeprefix(BOM)  # a BOM starts a file (or a file concatenated into a batch)
        if not line.strip():
            continue
        head = line[:3]
        if head in _ENVELOPE or head == b"MSH":
            if current:
                count += 1
                yield Record(raw=b"\r".join(current) + b"\r", ref=f"message {count}")
            current = [line] if head == b"MSH" else []
        else:
            current.append(line)
    if current:
        count += 1
        yield Record(raw=b"\r".join(current) + b"\r", ref=f"message {count}")
