"""The linked event on `fh.linked`: a hub event plus the hub person and family ids it belongs to.

A small extension of the envelope (schemas/envelope.py), so every consumer of `fh.events` reads
`fh.linked` with the same code:

    Bundle (unchanged, same id)
      entry[0] MessageHeader
        extension hub-person   valueIdentifier {system: HUB_PERSON, value: person id}  (one)
        extension hub-family   valueIdentifier {system: HUB_FAMILY, value: family id}  (one or more)
        extension hub-related  valueIdentifier {system: HUB_PERSON, value: person id}  (people the
                               event named beside its subject: a mother, a carer)
    Kafka key = the first family id (so a family's events stay ordered); headers repeat the
    envelope's plus `person_id` and `family_id` (every family id, comma-separated).

Merges and unmerges travel on the same topic as hub events of type `hub-persons-merged` /
`hub-person-unmerged`, whose subjects are the two hub person ids (kept first) and whose one entry
is a FHIR Linkage naming them; a consumer re-files the absorbed id's events under the kept id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.envelope import Entry, HubEvent, Identifier, resource_id
from schemas.event_types import EventType
from schemas.identifiers import HUB_EXTENSIONS

EXT = HUB_EXTENSIONS
EXT_HUB_PERSON = EXT + "hub-person"
EXT_HUB_FAMILY = EXT + "hub-family"
EXT_HUB_RELATED = EXT + "hub-related"
HUB_PERSON = "https://hubnet.example.org/Id/hub-person"
HUB_FAMILY = "https://hubnet.example.org/Id/hub-family"
IDENTITY_PARTNER = "hubnet-identity"
IDENTITY_SYSTEM = "https://hubnet.example.org/Id/identity-decision"


@dataclass(frozen=True)
class LinkedEvent:
    """A hub event with the ids identity resolution gave it."""

    event: HubEvent
    person_id: str
    family_ids: tuple[str, ...]
    related_ids: tuple[str, ...] = ()

    @property
    def key(self) -> bytes:
        return self.family_ids[0].encode()

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            *self.event.headers(),
            ("person_id", self.person_id.encode()),
            ("family_id", ",".join(self.family_ids).encode()),
        ]

    def to_bundle(self) -> dict[str, Any]:
        bundle = self.event.to_bundle()
        header = bundle["entry"][0]["resource"]
        header["extension"] = [
            *header["extension"],
            _ext(EXT_HUB_PERSON, HUB_PERSON, self.person_id),
            *(_ext(EXT_HUB_FAMILY, HUB_FAMILY, f) for f in self.family_ids),
            *(_ext(EXT_HUB_RELATED, HUB_PERSON, p) for p in self.related_ids),
        ]
        return bundle

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_bundle())

    @classmethod
    def from_bytes(cls, data: bytes) -> LinkedEvent:
        """Inverse of `to_bytes`; raises `ValueError` when the hub person or family is missing."""
        bundle = orjson.loads(data)
        header = bundle["entry"][0]["resource"]
        ours = (EXT_HUB_PERSON, EXT_HUB_FAMILY, EXT_HUB_RELATED)
        found: dict[str, list[str]] = {url: [] for url in ours}
        for item in header.get("extension", []):
            if item.get("url") in found:
                found[item["url"]].append(item["valueIdentifier"]["value"])
        if len(found[EXT_HUB_PERSON]) != 1 or not found[EXT_HUB_FAMILY]:
            raise ValueError("a linked event needs one hub-person and at least one hub-family extension")
        header["extension"] = [e for e in header.get("extension", []) if e.get("url") not in ours]
        return cls(
            event=HubEvent.from_bundle(bundle),
            person_id=found[EXT_HUB_PERSON][0],
            family_ids=tuple(found[EXT_HUB_FAMILY]),
            related_ids=tuple(found[EXT_HUB_RELATED]),
        )


def merge_event(
    *, decision_id: str, kept: str, absorbed: str, family_ids: tuple[str, ...], by: str, unmerge: bool
) -> LinkedEvent:
    """The merge (or unmerge) notice; `decision_id` makes the event id stable on re-send."""
    linkage = {
        "resourceType": "Linkage",
        "id": resource_id("linkage", decision_id),
        "author": {"display": by},
        "item": [
            {"type": "source", "resource": {"identifier": {"system": HUB_PERSON, "value": kept}}},
            {
                "type": "historical" if not unmerge else "alternate",
                "resource": {"identifier": {"system": HUB_PERSON, "value": absorbed}},
            },
        ],
    }
    event = HubEvent.create(
        event_type=EventType.HUB_PERSON_UNMERGED if unmerge else EventType.HUB_PERSONS_MERGED,
        source_partner=IDENTITY_PARTNER,
        source_system=IDENTITY_SYSTEM,
        source_record_id=decision_id,
        record_version="1",
        occurred_at=datetime.now(UTC),
        subjects=[Identifier(system=HUB_PERSON, value=kept), Identifier(system=HUB_PERSON, value=absorbed)],
        entries=[Entry.of(linkage)],
    )
    return LinkedEvent(event=event, person_id=kept, family_ids=family_ids, related_ids=(absorbed,))


def _ext(url: str, system: str, value: str) -> dict[str, Any]:
    return {"url": url, "valueIdentifier": {"system": system, "value": value}}
