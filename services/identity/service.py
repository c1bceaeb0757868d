"""One event in, one linked event out: the resolver and the families applied in one transaction.

Used by the worker (fh.events -> fh.linked, a batch per transaction), the offline scorer and the
tests alike (an event per transaction), so all resolve exactly the same way. Idempotent by event
id: a redelivered event gets the ids it got the first time, without touching the index again.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.envelope import HubEvent
from schemas.linked import LinkedEvent, merge_event
from services.identity.facts import read_event
from services.identity.families import Families
from services.identity.resolver import Merge, Resolver
from services.identity.store import IdentityStore
from services.streams.retry import is_transient


class IdentityService:
    """Links hub events; merge and unmerge notices wait in the store's notice table for the worker."""

    def __init__(self, store: IdentityStore) -> None:
        self.store = store
        self.resolver = Resolver(store)
        self.families = Families(store, self.resolver)

    def link(self, event: HubEvent) -> LinkedEvent:
        """One event in a transaction of its own (the scorer, tests)."""
        with self.store.transaction():
            return self._link(event)

    def link_batch(self, events: Sequence[HubEvent]) -> list[LinkedEvent | Exception]:
        """Many events in one transaction, each under a savepoint, committed once (the worker's
        group commit). Per event: its linked event, or the error that makes it poison (its own
        writes undone, the others kept). A transient error (retry.py) rolls the whole batch back
        and is raised, so the caller tries the batch again."""
        with self.store.transaction():
            return [self._guarded(event) for event in events]

    def _guarded(self, event: HubEvent) -> LinkedEvent | Exception:
        try:
            with self.store.savepoint():
                return self._link(event)
        except Exception as error:
            if is_transient(error):
                raise
            return error

    def _link(self, event: HubEvent) -> LinkedEvent:
        done = self.store.seen(event.event_id)
        if done is None:
            facts = read_event(event)
            match = self.resolver.resolve(facts.subject)
            links = self.families.link(facts, match.person_id, match.new_facts)
            done = {
                "person_id": self.store.canonical(match.person_id),
                "family_ids": list(links.family_ids),
                "related_ids": [self.store.canonical(m.person_id) for m in links.related],
                "rule": match.rule,
            }
            self.store.remember(event.event_id, done)
            for merge in (*match.merges, *(m for r in links.related for m in r.merges)):
                self.queue(merge)
        return LinkedEvent(
            event=event,
            person_id=done["person_id"],
            family_ids=tuple(done["family_ids"]),
            related_ids=tuple(done["related_ids"]),
        )

    def queue(self, merge: Merge) -> None:
        """File a merge/unmerge notice for fh.linked, in the caller's transaction."""
        families = tuple(f for f, _ in self.store.memberships(merge.kept)) or (merge.kept,)
        decision_id = f"{'unmerge' if merge.unmerge else 'merge'}:{merge.kept}:{merge.absorbed}"
        notice = merge_event(
            decision_id=decision_id,
            kept=merge.kept,
            absorbed=merge.absorbed,
            family_ids=families,
            by=merge.by,
            unmerge=merge.unmerge,
        )
        self.store.queue_notice(notice.key, notice.to_bytes(), notice.headers())
