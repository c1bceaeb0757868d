"""Read partner XML safely, with the element path of every value at hand for error messages.

XML partners (DfE CTF, CIN census) need the same three things: parsing that refuses entity
tricks (defusedxml), matching on local names so a namespaced export reads like a plain one, and
errors that say where in the document the problem is (`CTfile.CTFpupilData.Pupil[1].DOB`: the one
path notation of every connector, connectors/common/problems.py, with zero-based positions).
`XmlNode` pairs an element with its path; every getter raises `MappingError` naming that path and
never echoes the value, since reasons reach logs and ops pages.

Typical use in a connector:

    root = parse_xml(record.raw, root="CTfile")
    pupil = root.require("CTFpupilData").children("Pupil")[0]
    born = pupil.require_date("DOB")            # "CTfile.CTFpupilData.Pupil[0].DOB: ..."
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from connectors.common.values import iso_date
from schemas.errors import MappingError


def unreadable_encoding() -> MappingError:
    """The rejection for an XML declaration naming an encoding Python cannot decode (every XML reader)."""
    return MappingError(
        "the XML declaration names an encoding hubnet cannot read",
        location="XML declaration",
        hint='send UTF-8 and declare it: <?xml version="1.0" encoding="UTF-8"?>',
    )


def parse_xml(data: bytes, root: str) -> XmlNode:
    """Parse a whole document and check its root element's local name.

    Raises `MappingError` for text that is not well-formed XML (with line and column), for DTDs
    and entity declarations (refused: they can expand without bound or read local files), and for
    a document whose root is not `root`.
    """
    try:
        element = fromstring(data)
    except ParseError as error:
        line, column = error.position
        raise MappingError(
            f"the document is not well-formed XML ({_expat_reason(error)})",
            location=f"line {line}, column {column + 1}",
            hint="export the file again from the management information system; do not edit it by hand",
        ) from None
    except DefusedXmlException:
        raise MappingError(
            "the document declares a DTD or entities, which hubnet does not accept",
            location="DOCTYPE",
            hint="remove the DOCTYPE declaration; the file must be plain XML",
        ) from None
    except (LookupError, ValueError):  # after DefusedXmlException (a ValueError): an unknown encoding
        raise unreadable_encoding() from None
    for node in element.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    if element.tag != root:
        raise MappingError(
            f"the root element is '{element.tag}', expected '{root}'",
            location=element.tag,
            hint=f"send a {root} document",
        )
    return XmlNode(element, root)


def to_document(element: Element) -> bytes:
    """Serialise an element as a stand-alone UTF-8 document (with XML declaration)."""
    document: bytes = tostring(element, encoding="utf-8", xml_declaration=True)
    return document


def _expat_reason(error: ParseError) -> str:
    """expat's message without its trailing position, which the location already gives."""
    return str(error).split(":", 1)[0]


@dataclass(frozen=True)
class XmlNode:
    """An element and its path from the document root, as partners see it in their file."""

    element: Element
    path: str

    def at(self, name: str) -> str:
        """Path of a child element, for error locations."""
        return f"{self.path}.{name}"

    def find(self, name: str) -> XmlNode | None:
        """The first child of that local name, or None."""
        child = self.element.find(name)
        return None if child is None else XmlNode(child, self.at(name))

    def require(self, name: str) -> XmlNode:
        child = self.find(name)
        if child is None:
            raise MappingError(
                "a required element is missing",
                self.at(name),
                hint=f"add <{name}> as the schema requires",
            )
        return child

    def children(self, name: str) -> list[XmlNode]:
        """Every child of that local name, each with its zero-based position in the path."""
        found = self.element.findall(name)
        return [XmlNode(child, f"{self.path}.{name}[{index}]") for index, child in enumerate(found)]

    def items(self, container: str, item: str) -> list[XmlNode]:
        """The `item` children of a container child, e.g. `items("SENhistory", "SEN")`; [] if absent."""
        holder = self.find(container)
        return [] if holder is None else holder.children(item)

    def text(self, name: str) -> str | None:
        """Trimmed text of a child, or None when it is absent or empty (= not known)."""
        child = self.element.find(name)
        if child is None or child.text is None:
            return None
        value = child.text.strip()
        return value or None

    def require_text(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise self._missing(name)
        return value

    def as_date(self, name: str) -> date | None:
        """An xs:date child (YYYY-MM-DD)."""
        value = self.text(name)
        return None if value is None else iso_date(value, self.at(name))

    def require_date(self, name: str) -> date:
        value = self.as_date(name)
        if value is None:
            raise self._missing(name)
        return value

    def integer(self, name: str, low: int = 0) -> int | None:
        """A whole number child, at least `low`."""
        value = self.text(name)
        if value is None:
            return None
        if not (value.isascii() and value.isdigit()) or int(value) < low:
            raise MappingError(
                f"the value is not a whole number of at least {low}",
                self.at(name),
                hint="write digits only",
            )
        return int(value)

    def require_integer(self, name: str, low: int = 0) -> int:
        value = self.integer(name, low)
        if value is None:
            raise self._missing(name)
        return value

    def code(self, name: str, allowed: Collection[str]) -> str | None:
        """A child that must hold one of a fixed list of codes (compared upper-case)."""
        value = self.text(name)
        if value is None:
            return None
        code = value.upper()
        if code not in allowed:
            raise MappingError(
                "the value is not one of the codes the specification allows",
                self.at(name),
                hint=f"use one of: {', '.join(sorted(allowed))}",
            )
        return code

    def require_code(self, name: str, allowed: Collection[str]) -> str:
        value = self.code(name, allowed)
        if value is None:
            raise self._missing(name)
        return value

    def pick(self, *names: str) -> str:
        """The first of several accepted spellings of a child that is present (else the first), for
        schemas that renamed an element between versions (`Gender`, later `Sex`)."""
        return next((name for name in names if self.element.find(name) is not None), names[0])

    def _missing(self, name: str) -> MappingError:
        return MappingError("a required element is missing or empty", self.at(name), hint="fill it in")
