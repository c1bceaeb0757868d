"""HL7 v2 acknowledgements (original mode) built from a message's conversion outcomes. Pure.

HL7 senders wait for an ACK before sending the next message, and resend when none comes:

- AA (accepted): every outcome is a hub event.
- AR (rejected): the message cannot be read, or its header says something hubnet does not take
  (no MSH, wrong encoding characters, a malformed segment, an unsupported message type or
  version). Resending it unchanged will fail the same way.
- AE (error): the message was read but a value is wrong (an NHS number failing its check digit,
  a missing vaccine code). The reason goes in MSA-3; each problem has an ERR of its own (v2.5+:
  ERR-2 its position, ERR-3 its HL7 table 0357 code, ERR-7 and ERR-8 its reason), so the sender
  fixes every one before resending.

- AR or AE from `refusal_ack`: refused by the gateway for a reason outside the content (a sender
  not registered to the partner, a frame over the size limit; AE 205 for a changed resend).

In every case the message itself is kept: rejections go to the dead-letter topic by the caller.
The ACK is written with the incoming message's own delimiters and version, and is addressed
back to the sender (MSH-3/4 and MSH-5/6 swapped), echoing MSH-10 in MSA-2.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from hl7.util import escape

from connectors.base import Outcome, Record, Rejection
from connectors.hl7v2.parsing import Delimiters, Segment, parse_header
from schemas.errors import MappingError, Problem

DEFAULT_DELIMITERS = Delimiters(field="|", component="^", repetition="~", escape="\\", subcomponent="&")
_LOCATION = re.compile(r"([A-Z][A-Z0-9]{2})(?:\((\d+)\))?(?:-(\d+)(?:\[(\d+)\])?(?:\.(\d+))?)?")
_CONDITIONS = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "200": "Unsupported message type",
    "203": "Unsupported version id",
    "205": "Duplicate key identifier",
    "207": "Application internal error",
}
_NEW_ERR_FROM = (2, 5)  # ERR-2..8 replaced the single ERR-1 (ELD) field in v2.5


def build_ack(
    message: bytes,
    outcomes: Sequence[Outcome],
    *,
    control_id: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """The ACK for one received message (without MLLP framing), CR-separated segments."""
    header, problem = _header(message)
    if problem is None:
        problem = next((o for o in outcomes if isinstance(o, Rejection)), None)
    code = _ack_code(problem, header)
    return _render(header, problem, code, None, control_id=control_id, now=now)


def refusal_ack(
    message: bytes,
    reason: str,
    *,
    code: str = "AR",
    condition: str = "207",
    control_id: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """The ACK for a message hubnet will not take for a reason outside its content (a sender not
    registered to the partner, a revoked partner, a frame over the size limit, a changed resend):
    `code` (AR, or AE) with the reason in MSA-3 and ERR, condition from HL7 table 0357."""
    header, _ = _header(message)
    problem = Rejection(reason=reason, original=message)
    return _render(header, problem, code, condition, control_id=control_id, now=now)


def _header(message: bytes) -> tuple[Segment | None, Rejection | None]:
    try:
        return parse_header(message), None
    except MappingError as error:
        return None, Rejection.from_error(error, Record(raw=message))


def _render(
    header: Segment | None,
    problem: Rejection | None,
    code: str,
    condition: str | None,
    *,
    control_id: str | None,
    now: datetime | None,
) -> bytes:
    delims = header.delims if header is not None else DEFAULT_DELIMITERS
    f = delims.field
    version = (header.text(12) if header is not None else "") or "2.5"
    trigger = header.text(9, 2) if header is not None else ""
    msh = f.join(
        [
            "MSH",
            delims.component + delims.repetition + delims.escape + delims.subcomponent,
            *(header.raw(n) if header is not None else "" for n in (5, 6, 3, 4)),
            (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S%z"),
            "",
            delims.component.join(["ACK", trigger, "ACK"]) if trigger else "ACK",
            control_id or uuid.uuid4().hex[:20],
            (header.raw(11) if header is not None else "") or "P",
            header.raw(12) if header is not None and header.raw(12) else version,
        ]
    )
    echoed = header.raw(10) if header is not None else ""
    segments = [msh, f.join(["MSA", code, echoed, _text(problem.reason, delims) if problem else ""])]
    if problem is not None:
        each = problem.problems or (Problem(path=problem.location or "", reason=problem.reason),)
        segments += [_err(one, condition or _condition(one), delims, version) for one in each]
    return ("\r".join(segments) + "\r").encode("utf-8")


def ack_code(ack: bytes) -> str:
    """MSA-1 of an ACK (AA, AE or AR): what a sender or a test reads first."""
    for line in ack.replace(b"\n", b"\r").split(b"\r"):
        if line.startswith(b"MSA"):
            return line[4:6].decode("ascii", "replace")
    return ""


def _ack_code(problem: Rejection | None, header: Segment | None) -> str:
    if problem is None:
        return "AA"
    location = problem.location or ""
    if header is None or location.startswith(("MSH", "segment ")):
        return "AR"
    return "AE"


def _condition(problem: Problem) -> str:
    """HL7 table 0357 code: a best fit from where the problem is; the reason text says the rest."""
    location = problem.path
    if location.startswith("MSH-9"):
        return "200"
    if location.startswith("MSH-12"):
        return "203"
    if not location:
        return "207"
    found = _LOCATION.match(location)
    if found is None or found.group(3) is None:
        return "100"
    return "101" if "missing" in problem.reason or " has no " in problem.reason else "102"


def _err(problem: Problem, condition: str, delims: Delimiters, version: str) -> str:
    """One ERR: where (ERR-2), the condition code (ERR-3), severity E, the reason (ERR-7, ERR-8)."""
    f, c, s = delims.field, delims.component, delims.subcomponent
    found = _LOCATION.match(problem.path)
    position = []
    if found is not None:
        segment, sequence, field, repetition, component = found.groups()
        position = [segment, sequence or "1", field or "", repetition or "", component or ""]
    reason = _text(problem.reason, delims)
    if _version(version) < _NEW_ERR_FROM:
        code = s.join([condition, _text(_CONDITIONS[condition], delims), "HL70357"])
        return f.join(["ERR", c.join([*position[:3], code])])
    location = c.join(position).rstrip(c)
    code = c.join([condition, _text(_CONDITIONS[condition], delims), "HL70357"])
    return f.join(["ERR", "", location, code, "E", "", "", reason, reason])


def _text(text: str, delims: Delimiters) -> str:
    """Free text made safe inside a field: delimiters escaped, line breaks as \\.br\\."""
    return str(escape(delims, text.replace("\r\n", "\r").replace("\n", "\r")))


def _version(text: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text)[:2]
    return tuple(int(n) for n in numbers) if numbers else _NEW_ERR_FROM
