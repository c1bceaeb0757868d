"""Families: which hub persons form a household, from what partners say about relationships.

Links come only from statements of a relationship: a birth notification (mother and baby),
RelatedPerson / NK1 records (parent, carer, child, sibling, partner), a school's contact record,
a social care family id. Living at the same address is not a relationship (lodgers, flat shares, a
postcode covering a block of flats): it is filed as a suggestion for a person to look at.

A household is anchored on its carers. A child joins each carer's household, so a child of
separated parents belongs to both; a second carer joins the child's existing household when they
live at the same postcode as a carer already there (two parents at home). Every person has at
least one family id, a household of their own until a relationship says otherwise, because
fh.linked is keyed by family id.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.envelope import resource_id
from services.identity.facts import EventFacts, Role
from services.identity.resolver import Match, Resolver
from services.identity.store import IdentityStore

CARER, CHILD, MEMBER = "carer", "child", "member"


@dataclass(frozen=True)
class FamilyLinks:
    """The subject's families after an event, and the people the event named beside it."""

    family_ids: tuple[str, ...]
    related: tuple[Match, ...]


def family_id_for(anchor: str) -> str:
    return resource_id("hub-family", anchor)


class Families:
    """Applies an event's relationships to the store; call inside `store.transaction()`."""

    def __init__(self, store: IdentityStore, resolver: Resolver) -> None:
        self.store = store
        self.resolver = resolver

    def link(self, facts: EventFacts, person_id: str, new_facts: bool = True) -> FamilyLinks:
        """Apply the event's family ids and relationships; co-residence is looked at only when
        the subject's facts are new (a new address, a new record)."""
        for token in facts.family_tokens:
            self._join_family_id(token, person_id)
        related = []
        for relation in facts.relations:
            household = self._household(self.store.canonical(person_id))
            match = self.resolver.resolve_relative(relation.facts, household)
            related.append(match)
            person_id = self.store.canonical(person_id)
            other = match.person_id
            if other == person_id:
                continue
            if relation.role == Role.PARENT:
                self._join(child=person_id, carer=other, postcode=relation.facts.postcode)
            elif relation.role == Role.CHILD:
                self._join(child=other, carer=person_id, postcode=facts.subject.postcode)
            elif relation.role == Role.PARTNER:
                self._couple(person_id, other, relation.facts.postcode)
            else:
                for family_id in self._families(person_id):
                    self._add_child(family_id, other)
        families = self._families(person_id)
        if new_facts:
            self._suggest(person_id, facts.subject.family, facts.subject.postcode, families)
        return FamilyLinks(family_ids=families, related=tuple(related))

    def _join_family_id(self, token: str, person_id: str) -> None:
        """A partner's family id names a household: the first time it is seen, it names the
        household the person already has with a carer (else a family of its own), so a social
        care family and the household relationships found are one hub family, not two."""
        family_id = self.store.family_of_token(token)
        if family_id is None:
            family_id = next(
                (f for f, _ in self.store.memberships(person_id) if self._has_carer(f)), family_id_for(token)
            )
            self.store.add_family(family_id, token)
        if self.store.add_member(family_id, person_id, MEMBER, "family-id"):
            self._leave_own_household(person_id, family_id)

    def _household(self, person_id: str) -> list[str]:
        """Everyone who shares a family with the person, the person aside."""
        return [
            member
            for family_id, _ in self.store.memberships(person_id)
            for member, _ in self.store.members(family_id)
            if member != person_id
        ]

    def _families(self, person_id: str) -> tuple[str, ...]:
        """The person's families, creating a household of their own when they have none."""
        found = tuple(family_id for family_id, _ in self.store.memberships(person_id))
        if found:
            return found
        family_id = family_id_for(person_id)
        self.store.add_family(family_id)
        self.store.add_member(family_id, person_id, MEMBER, "own-household")
        return (family_id,)

    def _join(self, *, child: str, carer: str, postcode: str) -> None:
        child_families = self.store.memberships(child)
        if {f for f, _ in child_families} & {f for f, _ in self.store.memberships(carer)}:
            return
        for family_id, _ in child_families:
            carers = [p for p, role in self.store.members(family_id) if role == CARER]
            if carers and postcode and any(postcode in self._postcodes(p) for p in carers):
                self._add_carer(family_id, carer, "co-resident carer")
                return
        home = self._home(carer)
        if home is None:
            without_carer = [f for f, _ in child_families if not self._has_carer(f)]
            home = without_carer[0] if without_carer else family_id_for(carer)
            self.store.add_family(home)
            self._add_carer(home, carer, "relationship")
        self._add_child(home, child)

    def _couple(self, person: str, partner: str, postcode: str) -> None:
        """Partners living at one postcode share a household: the one either heads already, else
        the person's own. Partners living apart (a postcode the person is not known to have had,
        when the hub knows where the person lives) stay apart."""
        known = self._postcodes(person)
        if postcode and known and postcode not in known:
            return
        if {f for f, _ in self.store.memberships(person)} & {f for f, _ in self.store.memberships(partner)}:
            return
        home = self._home(person) or self._home(partner) or self._families(person)[0]
        self._add_carer(home, person, "partner")
        self._add_carer(home, partner, "partner")

    def _home(self, carer: str) -> str | None:
        """The household a carer heads: one where they are a carer, else none yet (their own
        household of one is dissolved into the household the relationship makes)."""
        return next((f for f, role in self.store.memberships(carer) if role == CARER), None)

    def _add_carer(self, family_id: str, carer: str, source: str) -> None:
        """Make `carer` a carer of the household (of their own household too, if that is it)."""
        self.store.remove_member(family_id, carer)
        self.store.add_member(family_id, carer, CARER, source)
        self._leave_own_household(carer, family_id)

    def _add_child(self, family_id: str, child: str) -> None:
        """Add a child to a household; a household of the child's own is dissolved into it."""
        self.store.add_member(family_id, child, CHILD, "relationship")
        self._leave_own_household(child, family_id)

    def _leave_own_household(self, person_id: str, joined: str) -> None:
        """A person who joins a household leaves the household of one they had meanwhile."""
        for own, _ in self.store.memberships(person_id):
            if own != joined and self.store.members(own) == [(person_id, MEMBER)]:
                self.store.remove_member(own, person_id)

    def _has_carer(self, family_id: str) -> bool:
        return any(role == CARER for _, role in self.store.members(family_id))

    def _postcodes(self, person_id: str) -> set[str]:
        return {facts.postcode for facts in self.store.profiles_of(person_id) if facts.postcode}

    def _suggest(self, person_id: str, family_name: str, postcode: str, families: tuple[str, ...]) -> None:
        """A person living alone as far as the hub knows, at the postcode of a family with a
        member of the same family name there, may belong to it: suggested, never linked."""
        if not (family_name and postcode) or any(len(self.store.members(f)) > 1 for f in families):
            return
        for family_id in self.store.namesake_families(postcode, family_name):
            if family_id not in families:
                self.store.suggest(family_id, person_id, "co-residence: same postcode and family name")
