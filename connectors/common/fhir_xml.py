"""FHIR XML to FHIR JSON (plain dicts), following the published XML rules of the FHIR specification.

Why not `Model.model_validate_xml`: it needs lxml and validates the whole document at once, so one
bad entry would sink a whole Bundle and the error could not name the entry. Converting to the JSON
form first lets a connector split a Bundle and validate each entry on its own, with the same code
path as JSON input.

Rules applied (https://hl7.org/fhir/R4/xml.html, same in STU3):
- primitives carry their value in a `value` attribute; a primitive's `id` and `extension` children
  go to the sibling `_name` object (`_name` list for repeating primitives, `None` where absent);
- which elements repeat, and which are primitives, numbers or booleans, comes from the
  fhir.resources model of the release being read (R4B or STU3);
- a Resource-typed element (Bundle.entry.resource, contained, Parameters.parameter.resource) holds
  one child named after the resource type, which becomes `resourceType`;
- the XHTML narrative `div` is kept as a string; `Extension.url` and `id` attributes are kept.
Unknown elements are kept (as repeating-or-not by occurrence) so model validation can name them.
Errors name elements as JSON input's do (connectors/common/problems.py): `Bundle.entry[2].resource
.ofType(Patient).name[0]`, zero-based, whether the partner sent XML or JSON.
"""

from __future__ import annotations

import decimal
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from fhir_core.types import Xhtml

from connectors.common.xml_elements import unreadable_encoding
from schemas.errors import MappingError

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
Release = Literal["R4B", "STU3"]
Kind = Literal["string", "boolean", "integer", "decimal", "xhtml", "complex", "resource"]


@dataclass(frozen=True)
class _Element:
    """What the model says about one element: repeats or not, and how to read its value."""

    repeats: bool
    kind: Kind
    type_name: str = ""


def parse_xml(data: bytes, release: Release = "R4B") -> dict[str, Any]:
    """Parse a FHIR XML resource to its JSON form; raise `MappingError` when it is not FHIR XML."""
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException:
        raise MappingError(
            "the XML declares a DTD or entities, which FHIR XML never uses",
            location="XML document",
            hint="send plain FHIR XML without a DOCTYPE",
        ) from None
    except (LookupError, ValueError):  # after DefusedXmlException (a ValueError): an unknown encoding
        raise unreadable_encoding() from None
    except SafeET.ParseError as error:
        line, column = error.position
        raise MappingError(
            "the XML is not well formed",
            location=f"XML line {line}, column {column}",
            hint="check the file is complete and every element is closed",
        ) from None
    namespace, name = _split_tag(root.tag)
    if namespace != FHIR_NS:
        raise MappingError(
            f"the root element is not in the FHIR namespace '{FHIR_NS}'",
            location=name,
            hint='declare xmlns="http://hl7.org/fhir" on the root element',
        )
    return _resource(root, name, release, name)


def _resource(node: Element, resource_type: str, release: Release, path: str) -> dict[str, Any]:
    fields = _fields(release, resource_type)
    if fields is None:
        raise MappingError(
            f"'{resource_type}' is not a FHIR {_label(release)} resource type",
            location=path,
            hint="use a resource type defined by the FHIR specification",
        )
    out: dict[str, Any] = {"resourceType": resource_type}
    _children(node, fields, release, out, path)
    return out


def _children(
    node: Element, fields: dict[str, _Element], release: Release, out: dict[str, Any], path: str
) -> None:
    seen: dict[str, int] = {}
    for child in node:  # the parser drops comments and processing instructions
        namespace, name = _split_tag(child.tag)
        seen[name] = seen.get(name, 0) + 1
        # an unknown element is carried through so model validation names it as not part of the resource
        spec = fields.get(name) or _Element(repeats=False, kind="complex", type_name="")
        where = f"{path}.{name}[{seen[name] - 1}]" if spec.repeats or seen[name] > 1 else f"{path}.{name}"
        if namespace != (XHTML_NS if spec.kind == "xhtml" else FHIR_NS):
            raise MappingError(f"element '{name}' is not in the expected namespace", location=where)
        if seen[name] > 1 and not spec.repeats:
            raise MappingError(
                f"element '{name}' appears more than once, but FHIR allows it once here",
                location=where,
                hint="send one value, or check the element name",
            )
        value, extra = _value(child, spec, release, where)
        _put(out, name, value, extra, spec.repeats)


def _value(node: Element, spec: _Element, release: Release, path: str) -> tuple[Any, dict[str, Any] | None]:
    """The JSON value of one element plus, for primitives, its `_name` object (or None)."""
    if spec.kind == "xhtml":
        return _xhtml(node, root=True), None
    if spec.kind == "resource":
        inner = list(node)
        if len(inner) != 1:
            raise MappingError(
                "this element must hold exactly one resource, named by its type (e.g. <Patient>)",
                location=path,
                hint="wrap the resource's elements in an element named after its resource type",
            )
        _, resource_type = _split_tag(inner[0].tag)
        return _resource(inner[0], resource_type, release, f"{path}.ofType({resource_type})"), None
    if spec.kind == "complex":
        out: dict[str, Any] = {}
        for attribute in ("id", "url"):
            if attribute in node.attrib:
                out[attribute] = node.attrib[attribute]
        fields = _fields(release, spec.type_name) if spec.type_name else None
        _children(node, fields or {}, release, out, path)
        if "value" in node.attrib and not fields:  # unknown element used as a primitive
            return node.attrib["value"], None
        return out, None
    raw = node.attrib.get("value")
    extra: dict[str, Any] = {}
    if "id" in node.attrib:
        extra["id"] = node.attrib["id"]
    _children(node, _extension_fields(release), release, extra, path)
    return (_primitive(raw, spec.kind) if raw is not None else None), (extra or None)


def _xhtml(node: Element, *, root: bool = False) -> str:
    """Serialise the narrative as FHIR JSON carries it: `<div xmlns="...xhtml">...</div>`."""
    _, name = _split_tag(node.tag)
    attributes = "".join(f" {_split_tag(k)[1]}={quoteattr(v)}" for k, v in node.attrib.items())
    if root:
        attributes = f' xmlns="{XHTML_NS}"' + attributes
    inner = escape(node.text or "") + "".join(_xhtml(child) + escape(child.tail or "") for child in node)
    return f"<{name}{attributes}>{inner}</{name}>" if inner else f"<{name}{attributes}/>"


def _put(out: dict[str, Any], name: str, value: Any, extra: dict[str, Any] | None, repeats: bool) -> None:
    if not repeats:
        if value is not None:
            out[name] = value
        if extra is not None:
            out[f"_{name}"] = extra
        return
    values: list[Any] = out.setdefault(name, [])
    values.append(value)
    if extra is not None or f"_{name}" in out:
        extras: list[Any] = out.setdefault(f"_{name}", [None] * (len(values) - 1))
        extras.append(extra)
    if all(v is None for v in values):
        out.pop(name)


def _primitive(raw: str, kind: Kind) -> Any:
    """JSON type of a primitive: FHIR booleans and numbers are not strings in JSON."""
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    try:
        if kind == "integer":
            return int(raw)
        if kind == "decimal":
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:
        return raw  # left as text so model validation reports it with its path
    return raw


def _split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _label(release: Release) -> str:
    return "R4" if release == "R4B" else release


def _model_lookup(release: Release) -> Any:
    if release == "STU3":
        from fhir.resources.STU3 import get_fhir_model_class as stu3_lookup

        return stu3_lookup
    from fhir.resources.R4B import get_fhir_model_class as r4b_lookup

    return r4b_lookup


@cache
def _extension_fields(release: Release) -> dict[str, _Element]:
    return {"extension": _Element(repeats=True, kind="complex", type_name="Extension")}


@cache
def _fields(release: Release, type_name: str) -> dict[str, _Element] | None:
    """Element table of a model class, by JSON name; None for an unknown type."""
    try:
        model = _model_lookup(release)(type_name)
    except (KeyError, ValueError):
        return None
    table: dict[str, _Element] = {}
    for field in model.model_fields.values():
        name = field.alias
        if not name or name.startswith("_") or name in ("resourceType", "fhir_comments"):
            continue
        table[name] = _classify(field.annotation)
    return table


def _classify(annotation: Any) -> _Element:
    repeats = False
    current = _strip_optional(annotation)
    if typing.get_origin(current) is list:
        repeats = True
        current = _strip_optional(typing.get_args(current)[0])
    if typing.get_origin(current) is typing.Annotated:
        base, *metadata = typing.get_args(current)
        if any(isinstance(m, Xhtml) for m in metadata):
            return _Element(repeats, "xhtml")
        return _Element(repeats, _python_kind(base))
    if current in (bool, int, float, str, decimal.Decimal):
        return _Element(repeats, _python_kind(current))
    name = getattr(current, "__name__", "")
    name = name.removesuffix("Type")
    if name == "Resource":
        return _Element(repeats, "resource")
    return _Element(repeats, "complex", name)


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _python_kind(base: Any) -> Kind:
    if base is bool:
        return "boolean"
    if base is int:
        return "integer"
    if base in (float, decimal.Decimal):
        return "decimal"
    return "string"
