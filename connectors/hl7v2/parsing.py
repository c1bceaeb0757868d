"""Tokenise one HL7 v2 message (ER7, the pipe-and-hat encoding) into segments, fields and components.

Why not python-hl7's `hl7.parse` or hl7apy: building their object trees costs 150 µs for a 170-byte
ADT and 5 ms for an 8 KB one on the hub's hardware (hl7apy: about 50 ms), more than the whole
per-message budget once FHIR validation has taken its share. ER7 is a pure delimiter grammar (the
escape rules guarantee that a delimiter never appears as data), so `str.split` on the message's
own declared delimiters is exact; the subtle part, escape sequences (`\\F\\`, `\\S\\`, `\\T\\`, `\\R\\`,
`\\E\\`, `\\Xhh\\`, `\\.br\\`), is decoded by python-hl7's `unescape`, and only for values that contain
the escape character. Values are split lazily, so segments the mapping never reads cost nothing.

Positions follow HL7 numbering (MSH-1 is the field separator itself) and every error names one,
in the form partners see in their interface engine: `PID-3[2].1`, `OBX(3)-5`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hl7.util import unescape

from connectors.common.values import BOM
from schemas.errors import MappingError

_SEGMENT_END = re.compile(rb"[\r\n]")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_VERSION = re.compile(r"2\.[3-8](\.\d{1,2})?")
_CHARSETS = {
    "": "utf-8",
    "ASCII": "utf-8",
    "UNICODE": "utf-8",
    "UNICODE UTF-8": "utf-8",
    "8859/1": "latin-1",
    "8859/15": "iso8859-15",
}
_FORMATTING = {"H": "", "N": ""}  # highlight on/off carry no meaning once the text leaves HL7
SUPPORTED_VERSIONS = "2.3 to 2.8"
NULL = '""'  # HL7's explicit null: "delete this value"


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The five characters MSH-1 and MSH-2 declare; python-hl7's `unescape` reads `esc`/`separators`."""

    field: str
    component: str
    repetition: str
    escape: str
    subcomponent: str

    @property
    def esc(self) -> str:
        return self.escape

    @property
    def separators(self) -> str:
        return f"\r{self.field}{self.repetition}{self.component}{self.subcomponent}"

    def decode(self, text: str) -> str:
        """Plain text of a leaf value: escapes resolved, HL7 null and edge spaces removed."""
        if self.escape in text:
            text = unescape(self, text, _FORMATTING)
        text = text.strip()
        return "" if text == NULL else text


def position(label: str, field: int, repetition: int = 0) -> str:
    """An HL7 position as interface engines write it: `PID-3`, `PID-3[2]`, `OBX(3)-5`."""
    return f"{label}-{field}[{repetition}]" if repetition else f"{label}-{field}"


class Value:
    """One repetition of a field; split into decoded components and subcomponents on first use."""

    __slots__ = ("_delims", "_parts", "_where", "text")

    def __init__(self, text: str, delims: Delimiters, location: str | tuple[str, int, int]) -> None:
        """`location` as text (`PID-3[2]`), or as (segment label, field, repetition or 0), which
        is only written out when an error names it: most values never need theirs."""
        self.text = text
        self._delims = delims
        self._parts: list[str | list[str]] | None = None
        self._where = location

    @property
    def location(self) -> str:
        where = self._where
        if isinstance(where, str):
            return where
        return position(*where)

    def __bool__(self) -> bool:
        text = self.text.strip()
        return bool(text) and text != NULL

    def _split(self) -> list[str | list[str]]:
        delims = self._delims
        text = self.text
        parts: list[str | list[str]]
        if delims.subcomponent not in text and delims.escape not in text and NULL not in text:
            # The common case: nothing to decode but edge spaces (strip returns the same string
            # when there are none), so one pass of C-level splitting and stripping.
            parts = [part.strip() for part in text.split(delims.component)]
            self._parts = parts
            return parts
        parts = []
        for part in text.split(delims.component):
            if delims.subcomponent in part:
                parts.append([delims.decode(piece) for piece in part.split(delims.subcomponent)])
            elif delims.escape in part or part.strip() != part or part == NULL:
                parts.append(delims.decode(part))
            else:
                parts.append(part)  # plain text, nothing to decode
        self._parts = parts
        return parts

    def comp(self, number: int = 1, sub: int = 1) -> str:
        """Component `number` (1-based), subcomponent `sub`, decoded; '' when absent."""
        parts = self._parts if self._parts is not None else self._split()
        if number > len(parts):
            return ""
        part = parts[number - 1]
        if isinstance(part, str):
            return part if sub == 1 else ""
        return part[sub - 1] if sub <= len(part) else ""

    def components(self, count: int) -> list[str]:
        """Components 1..`count` as `comp(n)` reads each (first subcomponent), '' when absent:
        one call for mappers that read most components of a data type (CE, XPN, XTN)."""
        parts = self._parts if self._parts is not None else self._split()
        found = [part if isinstance(part, str) else part[0] for part in parts[:count]]
        return found + [""] * (count - len(found))

    def subs(self, number: int) -> list[str]:
        """Every non-empty subcomponent of a component (e.g. the parts of a street address)."""
        parts = self._parts if self._parts is not None else self._split()
        part = parts[number - 1] if number <= len(parts) else ""
        return [piece for piece in ([part] if isinstance(part, str) else part) if piece]

    def loc(self, component: int | None = None) -> str:
        """Location of this value, or of one of its components: `PID-3[2].1`."""
        return self.location if component is None else f"{self.location}.{component}"


class Segment:
    """One segment: its fields by HL7 number, repetitions split on demand."""

    __slots__ = ("_delims", "_fields", "_values", "label", "name", "occurrence")

    def __init__(self, fields: list[str], occurrence: int, delims: Delimiters) -> None:
        self.name = fields[0]
        self._fields = fields
        self.occurrence = occurrence
        self._delims = delims
        self._values: dict[int, Value] = {}
        # `OBX` for the first OBX of a message, `OBX(3)` for the third: used in every location.
        self.label = self.name if occurrence == 1 else f"{self.name}({occurrence})"

    @property
    def delims(self) -> Delimiters:
        return self._delims

    def loc(self, field: int) -> str:
        return position(self.label, field)

    def raw(self, field: int) -> str:
        """The field's text exactly as sent (MSH-1 and MSH-2 must be read this way)."""
        return self._fields[field] if field < len(self._fields) else ""

    def reps(self, field: int) -> list[Value]:
        """Every non-empty repetition of a field, each knowing its location `PID-3[2]`."""
        text = self.raw(field)
        if not text:
            return []
        parts = text.split(self._delims.repetition) if field != 2 or self.name != "MSH" else [text]
        label = self.label
        return [
            Value(part, self._delims, (label, field, index))
            for index, part in enumerate(parts, start=1)
            if part.strip() and part.strip() != NULL
        ]

    def value(self, field: int) -> Value:
        """The first repetition of a field (an empty `Value` when the field is empty)."""
        found = self._values.get(field)
        if found is None:
            fields = self._fields
            text = fields[field].partition(self._delims.repetition)[0] if field < len(fields) else ""
            found = self._values[field] = Value(text, self._delims, (self.label, field, 0))
        return found

    def text(self, field: int, component: int = 1, sub: int = 1) -> str:
        """Shortcut: decoded component of the first repetition."""
        return self.value(field).comp(component, sub)


@dataclass(frozen=True)
class Message:
    """A tokenised message plus the header facts every mapping needs."""

    delims: Delimiters
    segments: list[Segment]
    version: str

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def message_code(self) -> str:
        return self.header.text(9, 1).upper()

    @property
    def trigger(self) -> str:
        """MSH-9.2; versions before 2.3.1 sometimes put it only in EVN-1."""
        trigger = self.header.text(9, 2)
        if not trigger and (evn := self.first("EVN")):
            trigger = evn.text(1)
        return trigger.upper()

    @property
    def control_id(self) -> str:
        return self.header.text(10)

    def first(self, name: str) -> Segment | None:
        return next((s for s in self.segments if s.name == name), None)

    def all(self, name: str) -> list[Segment]:
        return [s for s in self.segments if s.name == name]


def decode_bytes(raw: bytes) -> str:
    """Bytes to text using MSH-18 (character set); undeclared non-UTF-8 bytes are read as 8859/1,
    the character set older UK patient administration systems send without declaring it."""
    raw = raw.removeprefix(b"\xef\xbb\xbf").strip(b"\x0b\x1c\r\n \t")
    head = raw.split(b"\r", 1)[0].split(b"\n", 1)[0].decode("latin-1")
    declared = ""
    if head.startswith("MSH") and len(head) > 3:
        fields = head.split(head[3])
        declared = fields[17].split("~")[0].split("^")[0].strip().upper() if len(fields) > 17 else ""
    codec = _CHARSETS.get(declared)
    if codec is None:
        raise MappingError(
            f"character set '{declared[:20]}' is not supported",
            location="MSH-18",
            hint="send UNICODE UTF-8 (or 8859/1), or leave MSH-18 empty for UTF-8",
        )
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        if declared:
            raise MappingError(
                f"the message is not valid {declared} text as MSH-18 declares",
                location="MSH-18",
                hint="declare the character set the message is really written in",
            ) from None
        return raw.decode("latin-1")


def _lines(raw: bytes) -> tuple[list[str], Delimiters]:
    """Segment lines of a message (CR, LF or CRLF ends) and the delimiters its MSH declares."""
    text = decode_bytes(raw).replace("\r\n", "\r").replace("\n", "\r")
    lines = [line for line in text.split("\r") if line.strip()]
    if not lines or not lines[0].startswith("MSH"):
        raise MappingError(
            "the message does not start with an MSH segment",
            location="MSH",
            hint="every HL7 v2 message must begin with its MSH header segment",
        )
    return lines, _delimiters(lines[0])


def parse_header(raw: bytes) -> Segment:
    """The MSH segment alone: enough to answer a message whose body is broken or over a cap (see
    `ack`), so only the first segment is read, whatever the message holds after it."""
    lines, delims = _lines(_first_segment(raw))
    fields = lines[0].split(delims.field)
    fields.insert(1, delims.field)
    return Segment(fields, 1, delims)


def _first_segment(raw: bytes) -> bytes:
    """The message's first segment, without what frames it (a BOM, MLLP bytes, blank lines)."""
    body = raw.removeprefix(BOM).lstrip(b"\x0b\x1c\r\n \t")
    end = _SEGMENT_END.search(body)
    return body[: end.start()] if end else body


def parse_message(raw: bytes) -> Message:
    """Tokenise one message; raises `MappingError` naming the segment or field that is malformed."""
    lines, delims = _lines(raw)
    counts: dict[str, int] = {}
    segments: list[Segment] = []
    for number, line in enumerate(lines, start=1):
        name = line[:3]
        if not _SEGMENT_ID.fullmatch(name) or (len(line) > 3 and line[3] != delims.field):
            raise MappingError(
                f"segment {number} of the message is not an HL7 segment",
                location=f"segment {number}",
                hint=f"each segment starts with a three-character id (such as PID) and '{delims.field}'",
            )
        fields = line.split(delims.field)
        if name == "MSH":
            if number > 1:
                raise MappingError(
                    "a second MSH segment appears inside the message",
                    location=f"segment {number}",
                    hint="separate messages in a batch with a line break before each MSH",
                )
            fields.insert(1, delims.field)
        counts[name] = counts.get(name, 0) + 1
        segments.append(Segment(fields, counts[name], delims))
    version = segments[0].text(12)
    if not _VERSION.fullmatch(version):
        raise MappingError(
            f"HL7 version '{version[:12]}' is not supported" if version else "the HL7 version is missing",
            location="MSH-12",
            hint=f"hubnet reads HL7 v2 versions {SUPPORTED_VERSIONS}",
        )
    return Message(delims=delims, segments=segments, version=version)


def _delimiters(msh: str) -> Delimiters:
    field = msh[3:4]
    end = msh.find(field, 4) if field else -1
    return _declared(field, msh[4:end] if end > 0 else msh[4:])


@lru_cache(maxsize=256)
def _declared(field: str, chars: str) -> Delimiters:
    """MSH-1 and MSH-2 checked; cached, as nearly every message declares the same five."""
    if not field or field.isalnum() or field.isspace():
        raise MappingError(
            "the field separator is missing or is a letter, digit or space",
            location="MSH-1",
            hint="MSH must start 'MSH|^~\\&|'",
        )
    if (
        len(chars) not in (4, 5)
        or len(set(chars + field)) != len(chars) + 1
        or any(c.isalnum() or c.isspace() for c in chars)
    ):
        raise MappingError(
            "the encoding characters are wrong: four different symbols are expected",
            location="MSH-2",
            hint="use the standard encoding characters ^~\\& (component, repetition, escape, subcomponent)",
        )
    return Delimiters(
        field=field, component=chars[0], repetition=chars[1], escape=chars[2], subcomponent=chars[3]
    )
