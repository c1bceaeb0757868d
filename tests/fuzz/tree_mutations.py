"""Mutations of parsed JSON and XML trees, for the connector fuzz test.

The input is parsed, one node is changed (value, key, element text, attribute, or the node
removed, repeated or moved), and the tree is written back, so the result is still well-formed and
the change reaches the connector's mapping rather than its parser. Inputs that do not parse any
more (after an earlier byte mutation) are returned unchanged.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from xml.etree import ElementTree

from defusedxml.ElementTree import fromstring
from hypothesis import strategies as st

from tests.fuzz.text_mutations import BOM, Mutation
from tests.fuzz.values import edge_names, edge_text

Path = tuple[str | int, ...]


def json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        edge_text(),
        st.none(),
        st.booleans(),
        st.sampled_from([0, -1, 1.5, 2**63, -(2**63) - 1, 1e308, 10**40]),
        st.just([]),
        st.just({}),
        st.just([[[[[[[[[[[]]]]]]]]]]]),
    )


def _load(data: bytes) -> Any:
    try:
        return json.loads(data.removeprefix(BOM))
    except ValueError:  # not JSON, or not UTF-8
        return None


def _paths(node: Any, path: Path = ()) -> list[Path]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


def _at(root: Any, path: Path) -> Any:
    for step in path:
        root = root[step]
    return root


def json_node(draw: st.DrawFn, data: bytes) -> bytes:
    """Replace, delete, repeat or re-key one node of the JSON tree, or swap it with another."""
    root = _load(data)
    if not isinstance(root, dict | list):
        return data
    paths = [p for p in _paths(root) if p]
    if not paths:
        return data
    path = draw(st.sampled_from(paths))
    parent, step = _at(root, path[:-1]), path[-1]
    action = draw(st.sampled_from(["set", "set", "set", "delete", "repeat", "rekey", "swap", "wrap"]))
    if action == "set":
        parent[step] = draw(json_scalars())
    elif action == "delete":
        del parent[step]
    elif action == "repeat" and isinstance(parent, list) and isinstance(step, int):
        parent.insert(step, copy.deepcopy(parent[step]))
    elif action == "rekey" and isinstance(parent, dict):
        key = draw(st.sampled_from([str(step).upper(), f"{step}_", "", "resourceType", "id"]) | edge_names())
        parent[key] = parent.pop(step)
    elif action == "swap":
        other = draw(st.sampled_from(paths))
        if other[: len(path)] != path and path[: len(other)] != other:  # neither contains the other
            other_parent = _at(root, other[:-1])
            parent[step], other_parent[other[-1]] = other_parent[other[-1]], parent[step]
    else:
        parent[step] = [parent[step]]
    return json.dumps(root, ensure_ascii=False).encode(errors="surrogatepass")  # "\\ud800" stays bad


JSON: tuple[Mutation, ...] = (json_node, json_node, json_node)


def _parse_xml(data: bytes) -> ElementTree.Element | None:
    try:
        root: ElementTree.Element = fromstring(data)
    except Exception:  # anything defusedxml refuses or cannot parse is left to the byte mutations
        return None
    if root.tag.startswith("{"):  # keep a default namespace unprefixed when written back
        ElementTree.register_namespace("", root.tag[1:].split("}", 1)[0])
    return root


def xml_node(draw: st.DrawFn, data: bytes) -> bytes:
    """Set an element's text or an attribute, or remove, repeat, rename or empty an element."""
    root = _parse_xml(data)
    if root is None:
        return data
    parents = {child: parent for parent in root.iter() for child in parent}
    element = draw(st.sampled_from(list(root.iter())))
    parent = parents.get(element)
    action = draw(st.sampled_from(["text", "text", "attribute", "remove", "repeat", "rename", "empty"]))
    if action == "text":
        element.text = draw(edge_text())
    elif action == "attribute":
        name = draw(st.sampled_from([*element.attrib, "value", "id"]))
        element.set(name, draw(edge_text()))
    elif action == "remove" and parent is not None:
        parent.remove(element)
    elif action == "repeat" and parent is not None:
        parent.insert(list(parent).index(element), copy.deepcopy(element))
    elif action == "rename":
        namespace = element.tag[: element.tag.index("}") + 1] if element.tag.startswith("{") else ""
        element.tag = namespace + draw(st.sampled_from(["Unknown", "Pupil", "Child", "value", "x"]))
    else:
        element.clear()
    written: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return written


XML: tuple[Mutation, ...] = (xml_node, xml_node, xml_node)
