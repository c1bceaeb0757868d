"""Sensitivity of FHIR content: what the partner labelled, plus the hub's own restricted topics.

Hub staff see a timeline filtered by sensitivity, so an event about child protection, a looked-after
child, sexual or mental health, or domestic abuse must be RESTRICTED even when the sending system
did not label it. The partner's own `meta.security` confidentiality code is honoured (never
lowered); topic words are matched on codes' display text and free text of the coded elements.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from schemas.envelope import CONFIDENTIALITY_SYSTEM, Sensitivity

_CODED_ELEMENTS = (
    "code",
    "category",
    "type",
    "reasonCode",
    "vaccineCode",
    "serviceType",
    "valueCodeableConcept",
)
_RESTRICTED_TOPICS = re.compile(
    r"child protection|safeguarding|looked[- ]after|child in care|care order|foster|"
    r"sexual|contracept|termination of pregnancy|\bhiv\b|genitourinary|\bsti\b|"
    r"mental health|psychiatr|self[- ]harm|suicid|eating disorder|camhs|"
    r"domestic (abuse|violence)|\bmarac\b|female genital mutilation|\bfgm\b",
    re.IGNORECASE,
)
_ORDER = {Sensitivity.NORMAL: 0, Sensitivity.RESTRICTED: 1, Sensitivity.VERY_RESTRICTED: 2}
_LABELS = {"R": Sensitivity.RESTRICTED, "V": Sensitivity.VERY_RESTRICTED}


def sensitivity_of(resources: list[dict[str, Any]]) -> Sensitivity:
    """The highest sensitivity of the resources of one event."""
    level = Sensitivity.NORMAL
    for resource in resources:
        found = _labelled(resource)
        if found is Sensitivity.NORMAL and _names_restricted_topic(" ".join(_coded_text(resource))):
            found = Sensitivity.RESTRICTED
        if _ORDER[found] > _ORDER[level]:
            level = found
    return level


def label(resource: dict[str, Any], level: Sensitivity) -> dict[str, Any]:
    """A copy carrying the confidentiality code in `meta.security`, so the label travels with the
    resource itself (a restricted resource stays restricted when copied out of its event)."""
    if level is Sensitivity.NORMAL or _labelled(resource) is level:
        return resource
    meta = dict(resource.get("meta") or {})
    security = [s for s in meta.get("security") or [] if s.get("system") != CONFIDENTIALITY_SYSTEM]
    meta["security"] = [*security, {"system": CONFIDENTIALITY_SYSTEM, "code": level.value}]
    return {**resource, "meta": meta}


@lru_cache(maxsize=4096)
def _names_restricted_topic(text: str) -> bool:
    """Cached: coded text repeats (the same LOINC and vaccine displays in every message)."""
    return _RESTRICTED_TOPICS.search(text) is not None


def _labelled(resource: dict[str, Any]) -> Sensitivity:
    level = Sensitivity.NORMAL
    meta = resource.get("meta")
    security = meta.get("security") if isinstance(meta, dict) else None
    for item in security if isinstance(security, list) else []:
        if not isinstance(item, dict):
            continue  # a malformed label fails model validation with its path; it labels nothing
        code = item.get("code") if isinstance(item.get("code"), str) else None
        found = _LABELS.get(code or "", Sensitivity.NORMAL)
        if item.get("system") in (CONFIDENTIALITY_SYSTEM, None) and _ORDER[found] > _ORDER[level]:
            level = found
        elif str(code).lower() in ("restricted", "redacted"):  # PDS marks S-flagged patients so
            level = max(level, Sensitivity.RESTRICTED, key=_ORDER.__getitem__)
    return level


def _coded_text(resource: dict[str, Any]) -> list[str]:
    words: list[str] = []
    for name in _CODED_ELEMENTS:
        value = resource.get(name)
        for concept in value if isinstance(value, list) else [value]:
            if not isinstance(concept, dict):
                continue
            words.append(str(concept.get("text") or ""))
            words += [str(c.get("display") or "") for c in concept.get("coding") or [] if isinstance(c, dict)]
    return words
