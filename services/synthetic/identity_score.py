"""`hubnet identity score DIR`: how well identity resolution finds people and families in a
generated county, against its ground truth (services/synthetic, `DIR/ground_truth.csv`).

Offline, no Kafka: every delivery is converted by its connector, in the order partners send them
(services/synthetic/replay.py), and linked by the same `IdentityService` the worker runs, in
batches of the same size.

Person links are scored pairwise over source records: a pair of records is a true link when the
ground truth gives them the same person, a predicted link when they end with the same hub person.
precision = true predicted links / predicted links, recall = true predicted links / true links
(counted from cluster sizes, never by listing pairs). Families: a true family is recovered when
all its people's hub persons share one hub family; a hub family is pure when its members' records
all come from one true family.
"""

from __future__ import annotations

import csv
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from connectors import registry
from connectors.base import SourceContext
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.synthetic.replay import deliveries

BATCH = 500
"""Events per store transaction, as the worker commits them (services/identity/worker.py)."""
SCORED = frozenset({"event", "duplicate"})
"""Ground-truth `expected` values of records that become events (rejects are the DLQ's business)."""


class Report(BaseModel):
    """What `hubnet identity score` prints."""

    records: int
    events: int
    rejected: int
    skipped_formats: dict[str, int]
    persons_true: int
    persons_predicted: int
    precision: float
    recall: float
    reviews_open: int
    verified_nhs_conflicts: int
    families_true: int
    families_recovered: float
    families_recovered_with_suggestions: float
    families_pure: float
    seconds: float
    events_per_s: float


@dataclass(frozen=True)
class Truth:
    person: str
    family: str


def read_truth(root: Path) -> tuple[dict[tuple[str, int], Truth], Counter[str]]:
    """(file, position of the record in its file) -> true person and family, for records that
    become events; and how many records each file holds. Positions, not record refs, join the
    two sides: the generator and the connectors name records in their own ways ("entry 1",
    "$[0]"), but both list a file's records in order."""
    truth: dict[tuple[str, int], Truth] = {}
    sizes: Counter[str] = Counter()
    with (root / "ground_truth.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            position = sizes[row["file"]]
            sizes[row["file"]] += 1
            if row["expected"] in SCORED:
                truth[(row["file"], position)] = Truth(row["true_person_id"], row["true_family_id"])
    return truth, sizes


class _Positions:
    """Which record of its file each delivered chunk is: replay sends a file's records in the
    order the connector splits them. None when the split does not list as many records as the
    ground truth (a file broken on purpose, delivered whole): such a file is not scored."""

    def __init__(self, root: Path, sizes: Counter[str]) -> None:
        self.root = root
        self.sizes = sizes
        self._next: dict[str, int] = {}

    def next(self, fmt: str, path: str) -> int | None:
        if path not in self._next:
            try:
                count = sum(1 for _ in registry.get(fmt).split((self.root / path).read_bytes()))
            except MappingError:
                count = -1
            self._next[path] = 0 if count == self.sizes[path] else -1
        if self._next[path] < 0:
            return None
        self._next[path] += 1
        return self._next[path] - 1


def pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def score(root: Path, store_path: Path, progress: Callable[[int], None] | None = None) -> Report:
    """Run the county through connectors and the resolver into a fresh store, then compare."""
    truth, sizes = read_truth(root)
    service = IdentityService(IdentityStore.open(store_path))
    predicted: dict[tuple[str, int], str] = {}
    skipped: Counter[str] = Counter()
    events = rejected = 0
    started = time.perf_counter()
    known = set(registry.formats())
    positions = _Positions(root, sizes)
    batch: list[tuple[tuple[str, int] | None, HubEvent]] = []
    for count, delivery in enumerate(deliveries(root), 1):
        if delivery.fmt not in known:
            skipped[delivery.fmt] += 1
            continue
        position = positions.next(delivery.fmt, delivery.path)
        for outcome in registry.get(delivery.fmt).convert(
            delivery.data, SourceContext(partner=delivery.partner)
        ):
            if not isinstance(outcome, HubEvent):
                rejected += 1
                continue
            events += 1
            batch.append((None if position is None else (delivery.path, position), outcome))
            if len(batch) >= BATCH:
                _link(service, batch, predicted)
        if progress and count % 1000 == 0:
            progress(count)
    _link(service, batch, predicted)
    seconds = time.perf_counter() - started
    report = _compare(service, truth, predicted)
    service.store.close()
    return Report(
        **report,
        events=events,
        rejected=rejected,
        skipped_formats=dict(skipped),
        seconds=round(seconds, 1),
        events_per_s=round(events / seconds, 1) if seconds else 0.0,
    )


def _link(
    service: IdentityService,
    batch: list[tuple[tuple[str, int] | None, HubEvent]],
    predicted: dict[tuple[str, int], str],
) -> None:
    """Link a batch in one transaction, as the worker does, noting each scored record's person."""
    for (key, _), linked in zip(batch, service.link_batch([event for _, event in batch]), strict=True):
        if isinstance(linked, Exception):
            raise linked
        if key is not None:
            predicted.setdefault(key, linked.person_id)
    batch.clear()


def _compare(
    service: IdentityService, truth: dict[tuple[str, int], Truth], predicted: dict[tuple[str, int], str]
) -> dict[str, object]:
    store = service.store
    final = {key: store.canonical(person) for key, person in predicted.items() if key in truth}
    cells: Counter[tuple[str, str]] = Counter((truth[k].person, p) for k, p in final.items())
    by_true: Counter[str] = Counter(truth[k].person for k in final)
    by_predicted: Counter[str] = Counter(final.values())
    true_positive = pairs(cells.values())
    predicted_pairs, true_pairs = pairs(by_predicted.values()), pairs(by_true.values())
    families_of = {p: {f for f, _ in store.memberships(p)} for p in set(final.values())}
    members: dict[str, set[str]] = defaultdict(set)
    for key, person in final.items():
        members[truth[key].family].add(person)
    recovered = _recovered(members, families_of)
    suggested = {p: set(fs) for p, fs in families_of.items()}
    for family_id, person, _ in store.suggestions():
        suggested.setdefault(store.canonical(person), set()).add(family_id)
    hub_family_truth: dict[str, set[str]] = defaultdict(set)
    for key, person in final.items():
        for family_id in families_of[person]:
            hub_family_truth[family_id].add(truth[key].family)
    pure = sum(1 for truths in hub_family_truth.values() if len(truths) == 1)
    return {
        "records": len(final),
        "persons_true": len(by_true),
        "persons_predicted": len(by_predicted),
        "precision": round(true_positive / predicted_pairs, 5) if predicted_pairs else 1.0,
        "recall": round(true_positive / true_pairs, 5) if true_pairs else 1.0,
        "reviews_open": len(store.reviews("open")),
        "verified_nhs_conflicts": sum(1 for p in by_predicted if len(store.verified_nhs(p)) > 1),
        "families_true": len(members),
        "families_recovered": recovered,
        "families_recovered_with_suggestions": _recovered(members, suggested),
        "families_pure": round(pure / len(hub_family_truth), 4) if hub_family_truth else 1.0,
    }


def _recovered(members: dict[str, set[str]], families_of: dict[str, set[str]]) -> float:
    """Share of true families whose hub persons all share at least one hub family."""
    found = sum(1 for persons in members.values() if set.intersection(*(families_of[p] for p in persons)))
    return round(found / len(members), 4) if members else 1.0
