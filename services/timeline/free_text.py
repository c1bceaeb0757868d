"""Free text on the timeline: what partners typed (notes, HL7 OBX-5 strings, charity notes,
`Observation.valueString`, `Annotation.text`, a concept's own text) is withheld from a reader
unless it is safe for them. Pure; services/timeline/access.py applies it to every entry it shows,
so the API's JSON and FHIR searchset and the web pages get the same answer.

Why: a record's sensitivity label is the partner's judgement of the record, not of what someone
wrote in it. An OBX-5 reading "domestic abuse; child protection referral; HIV positive" inside an
entry labelled normal was shown to a hub practitioner, who may see no restricted entries.

The rule (docs/timeline.md, "Free text"):
1. Free text carries at least the sensitivity of its record: it is shown only with its entry.
2. A small, conservative term list per restricted category labels a text: a category found, or
   `unsure` when the list cannot judge it (longer than a short note, or not in Latin script).
   Otherwise it is `normal`.
3. A text is shown when it is normal; when the reader broke the glass; when every category found
   is of a domain whose restricted entries the reader's role may see (a health visitor reads
   "HIV positive"); or, for an unsure text, when the role may see the entry domain's restricted
   entries. Otherwise it is replaced by "withheld: free text". When unsure, withhold.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from schemas.event_types import Domain, EventType, definition
from services.timeline.model import TimelineEntry

WITHHELD = "withheld: free text"
MAX_NORMAL_WORDS = 40
CLASSIFY_CACHE = 65_536
"""Texts whose label is remembered (a label is a pure function of its text)."""
"""A term list can vouch for a short note; a longer narrative is never labelled normal."""

CATEGORIES: dict[str, tuple[Domain, tuple[str, ...]]] = {
    "safeguarding": (
        Domain.SOCIAL_CARE,
        (
            "safeguard*",
            "child protection",
            "protection plan",
            "cp plan",
            "section 47",
            "s47",
            "s.47",
            "child in need",
            "cin plan",
            "looked after",
            "care order",
            "strategy meeting",
            "mash",
            "abus*",
            "neglect*",
            "non-accidental",
            "nai",
            "exploit*",
            "cse",
            "cce",
            "groom*",
            "fgm",
            "genital mutilation",
            "traffick*",
            "modern slavery",
            "radicali*",
            "missing from home",
            "police",
            "assault*",
            "bruis*",
        ),
    ),
    "domestic abuse": (
        Domain.SOCIAL_CARE,
        (
            "domestic*",
            "dv",
            "da",
            "marac",
            "idva",
            "coerci*",
            "controlling behaviour",
            "refuge",
            "non-molestation",
            "violen*",
            "honour based",
        ),
    ),
    "sexual health": (
        Domain.HEALTH,
        (
            "hiv",
            "aids",
            "sexual*",
            "sti",
            "std",
            "chlamydia",
            "gonorrh*",
            "syphilis",
            "herpes",
            "hpv",
            "genital*",
            "contracept*",
            "pregnan*",
            "termination",
            "abortion",
            "miscarr*",
            "gum clinic",
            "prep",
            "hepatitis",
        ),
    ),
    "mental health": (
        Domain.HEALTH,
        (
            "mental*",
            "self-harm*",
            "self harm*",
            "selfharm*",
            "suicid*",
            "overdos*",
            "depress*",
            "anxiety",
            "anxious",
            "psychos*",
            "psychotic",
            "camhs",
            "ewmhs",
            "eating disorder",
            "anorexi*",
            "bulimi*",
            "bipolar",
            "schizophren*",
            "ptsd",
            "trauma*",
            "psychiatr*",
            "sectioned",
            "ocd",
        ),
    ),
    "substance misuse": (
        Domain.HEALTH,
        (
            "alcohol*",
            "drug",
            "substance*",
            "cannabis",
            "cocaine",
            "heroin",
            "methadone",
            "opiate",
            "opioid",
            "misus*",
            "addict*",
            "intoxicat*",
            "drunk",
        ),
    ),
}
"""Category -> (the domain whose restricted grant covers it, terms). Matched case-insensitively: a
term ending in `*` at the start of any word ("abus*" finds "abused"), any other as whole words (a
plural "s" allowed), so "da" finds "DA" but not "day", and "prep" not "preparing"."""

FREE_TEXT_KEYS = frozenset({
    "text", "div", "valueString", "valueMarkdown", "comment", "description", "contentString",
    "patientInstruction", "statusReason", "note",
})  # fmt: skip
"""FHIR elements that hold typed text: Annotation and CodeableConcept `text`, Narrative `div`,
`Observation.valueString` (HL7 OBX-5 strings), comments, descriptions, message contents."""

_LATIN = re.compile(r"[^\x00-\u024f\u2000-\u206f]")


def _piece(term: str) -> str:
    stem, prefix = term.removesuffix("*"), term.endswith("*")
    return re.escape(stem) + ("" if prefix else r"s?(?![a-z0-9])")


_NAMES = list(CATEGORIES)
_TERMS = re.compile(
    r"(?<![a-z0-9])(?:"
    + "|".join(
        f"(?P<c{i}>{'|'.join(_piece(t) for t in CATEGORIES[name][1])})" for i, name in enumerate(_NAMES)
    )
    + ")"
)
"""Every term list in one pattern over the lower-cased text (one pass; the group names the category)."""


@dataclass(frozen=True)
class Label:
    """What the classifier says of a text: the restricted categories it names, or that it cannot
    judge it; neither means normal."""

    categories: frozenset[str] = frozenset()
    unsure: bool = False

    @property
    def normal(self) -> bool:
        return not self.categories and not self.unsure


@lru_cache(maxsize=CLASSIFY_CACHE)
def classify(text: str) -> Label:
    """Cached: the same titles, codes' texts and displays recur on every entry of a family page."""
    found = frozenset(_NAMES[int(str(m.lastgroup)[1:])] for m in _TERMS.finditer(text.lower()))
    unsure = len(text.split()) > MAX_NORMAL_WORDS or bool(_LATIN.search(text))
    return Label(found, unsure)


@dataclass(frozen=True)
class Reader:
    """Who reads, as the rule needs it: the domains whose restricted entries their role may see,
    and whether they broke the glass for this read."""

    restricted: Collection[Domain]
    break_glass: bool = False


def may_read(text: str, reader: Reader, domain: Domain) -> bool:
    """Rule 3 for one text of an entry of `domain`."""
    if reader.break_glass:
        return True
    label = classify(text)
    if label.unsure and domain not in reader.restricted:
        return False
    return all(CATEGORIES[name][0] in reader.restricted for name in label.categories)


def redact(value: Any, reader: Reader, domain: Domain, *, free: bool = False) -> tuple[Any, int]:
    """A FHIR value with every free text the reader may not read replaced by WITHHELD, and how
    many were replaced. `free` marks a value found under a free-text element. Copy on write: a
    list or object with nothing withheld in it is returned as it is (a family summary redacts
    hundreds of entries a page, nearly all with nothing to withhold)."""
    if isinstance(value, str):
        if free and not may_read(value, reader, domain):
            return WITHHELD, 1
        return value, 0
    if not isinstance(value, list | dict):
        return value, 0
    items: Iterable[tuple[Any, Any]] = enumerate(value) if isinstance(value, list) else value.items()
    changed: dict[Any, Any] = {}
    count = 0
    for key, item in items:
        if isinstance(item, str) and not (free or key in FREE_TEXT_KEYS):
            continue  # plain text outside a free-text element: kept, without a call
        changed[key], n = redact(item, reader, domain, free=free or key in FREE_TEXT_KEYS)
        count += n
    if not count:
        return value, 0
    if isinstance(value, list):
        return [changed.get(n, item) for n, item in enumerate(value)], count
    return {key: changed.get(key, item) for key, item in value.items()}, count


def redact_entry(entry: TimelineEntry, reader: Reader) -> tuple[TimelineEntry, int]:
    """The entry as this reader may read it: free text of its resources redacted, and its title
    (made from the partner's text at projection) replaced by the event type's own words when the
    reader may not read it; with how many texts were withheld."""
    resources, count = redact(list(entry.resources), reader, entry.domain)
    title = entry.title
    if not may_read(title, reader, entry.domain):
        title, count = _coded_title(entry.event_type), count + 1
    if not count:
        return entry, 0
    return replace(entry, title=title, resources=tuple(resources)), count


def _coded_title(event_type: str) -> str:
    try:
        return definition(EventType(event_type)).display
    except ValueError:
        return "Timeline entry"
