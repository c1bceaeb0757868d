"""Who is this? Deterministic rules first, then a scored comparison, then one of three outcomes.

Order of evidence for one subject:
1. Identifiers already linked: a verified NHS number, a UPN, a partner-local id seen before. An
   event quoting identifiers of two hub persons (a social care record holding an NHS number) says
   they are one person: they merge, unless a human said otherwise or both hold verified,
   different NHS numbers. An unverified NHS number whose demographics contradict the person it
   names is not trusted (a sibling's number typed in), and matching falls through to scoring.
2. No identifier known: candidates from the blocking keys, scored (scoring.py). LINK joins the
   best person when no second person also scores LINK; REVIEW makes a new person and queues the
   pairs for a human; DISTINCT makes a new person.
Hub ids are UUIDv5 of the identifier that first named the person, so replaying the same events
into an empty store gives the same ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from schemas.envelope import Identifier, resource_id
from schemas.identifiers import LOCAL_PREFIX, NHS_NUMBER, UPN
from services.identity.blocking import index_keys, query_keys
from services.identity.facts import Facts
from services.identity.scoring import REVIEW_AT, Outcome, Score, agrees_in_household, compare, decide
from services.identity.store import IdentityStore

MACHINE = "hubnet-identity"
UNVERIFIED_NHS = f"{LOCAL_PREFIX}hubnet/unverified-nhs"
"""Stands in for an NHS number that was not trusted (see `Resolver._trusted`)."""


@dataclass(frozen=True)
class Merge:
    """Two hub persons found to be one: `absorbed` now reads as `kept` (or the reverse, unmerged)."""

    kept: str
    absorbed: str
    by: str
    reason: str
    unmerge: bool = False


@dataclass(frozen=True)
class Match:
    """How one subject was resolved."""

    person_id: str
    rule: str
    merges: tuple[Merge, ...] = ()
    reviews: tuple[str, ...] = ()
    score: dict[str, object] = field(default_factory=dict)
    new_facts: bool = True
    """False when the record stated nothing the index did not already hold."""


def person_id_for(token: str) -> str:
    return resource_id("hub-person", token)


class Resolver:
    """Resolves identity facts against the store; call inside `store.transaction()`."""

    def __init__(self, store: IdentityStore) -> None:
        self.store = store

    def resolve(self, facts: Facts) -> Match:
        known = self.store.persons_of(facts.tokens)
        facts = self._trusted(facts, known)
        tokens = list(facts.tokens)
        persons = [
            p for p in dict.fromkeys(known[t] for t in tokens if t in known) if self._compatible(facts, p)
        ]
        match = self._by_identifier(facts, tokens, known, persons) if persons else self._by_score(facts)
        return replace(match, new_facts=self._file(facts, match.person_id))

    def resolve_relative(self, facts: Facts, household: Iterable[str]) -> Match:
        """A person a record names beside its subject. While none of their identifiers is known,
        agreeing with exactly one member of the subject's households (`agrees_in_household`)
        makes them that member: a school's contact "Vicky Johnson" of a child whose household
        has a carer Vicky Johnson at that postcode. Otherwise they are resolved like anyone."""
        if not self.store.persons_of(facts.tokens):
            rejected = {p for p, verdicts in self._verdicts(facts).items() if "different" in verdicts}
            found = [p for p in dict.fromkeys(household) if p not in rejected and self._agrees(facts, p)]
            if len(found) == 1:
                person_id = found[0]
                self.store.audit(
                    "link",
                    person_id,
                    None,
                    by="rule:household",
                    reason="named as family of a household member",
                )
                return Match(person_id=person_id, rule="household", new_facts=self._file(facts, person_id))
        return self.resolve(facts)

    def _agrees(self, facts: Facts, person_id: str) -> bool:
        if not self._compatible(facts, person_id):
            return False
        return any(
            agrees_in_household(compare(facts, stored)) for stored in self.store.profiles_of(person_id)
        )

    def _trusted(self, facts: Facts, known: dict[str, str]) -> Facts:
        """The facts without an unverified NHS number that names someone with other demographics."""
        nhs_token = f"{NHS_NUMBER}|{facts.nhs}"
        if facts.verified_nhs or nhs_token not in known or not self._contradicts(facts, known[nhs_token]):
            return facts
        self.store.audit(
            "nhs-distrusted",
            known[nhs_token],
            None,
            by=MACHINE,
            reason="an unverified NHS number came with the demographics of someone else",
        )
        kept = tuple(i for i in facts.identifiers if i.system != NHS_NUMBER)
        if not kept:  # the NHS number was all it had: name it by the number and its own details
            value = resource_id("unverified-nhs", facts.nhs, *facts.demographics())
            kept = (Identifier(system=UNVERIFIED_NHS, value=value),)
        return replace(facts, identifiers=kept)

    def _by_identifier(
        self, facts: Facts, tokens: list[str], known: dict[str, str], persons: list[str]
    ) -> Match:
        target = persons[0]
        first = next(t for t in tokens if known.get(t) == target)
        rule = (
            "nhs-number" if first.startswith(NHS_NUMBER) else "upn" if first.startswith(UPN) else "local-id"
        )
        merges = []
        for other in persons[1:]:
            merge = self.merge(target, other, f"rule:{rule}", "one record quotes identifiers of both")
            if merge:
                merges.append(merge)
                target = merge.kept
        return Match(person_id=target, rule=rule, merges=tuple(merges))

    def _by_score(self, facts: Facts) -> Match:
        best: dict[str, Score] = {}
        for person_id, stored in self.store.candidates(query_keys(facts)):
            score = compare(facts, stored)
            if person_id not in best or score.total > best[person_id].total:
                best[person_id] = score
        verdicts = self._verdicts(facts)
        for person_id in best:
            if "same" in verdicts.get(person_id, ()):
                self.store.audit(
                    "link", person_id, None, by="rule:human", reason="a person confirmed this match"
                )
                return Match(person_id=person_id, rule="human")
        eligible = [
            (p, s)
            for p, s in best.items()
            if self._compatible(facts, p) and "different" not in verdicts.get(p, ())
        ]
        outcomes = [(p, s, decide(s)) for p, s in self._top(eligible)]
        links = [(p, s) for p, s, outcome in outcomes if outcome == Outcome.LINK]
        if len(links) == 1:
            person_id, score = links[0]
            self.store.audit(
                "link", person_id, None, by="rule:score", reason="demographics agree", detail=score.explain()
            )
            return Match(person_id=person_id, rule="score", score=score.explain())
        person_id = self._new_person(facts)
        reviews = []
        for candidate, score, outcome in outcomes:
            if outcome != Outcome.DISTINCT:
                review_id = resource_id("review", person_id, candidate)
                self.store.add_review(review_id, facts.source_token, person_id, candidate, score.explain())
                self.store.audit(
                    "review",
                    person_id,
                    candidate,
                    by="rule:score",
                    reason="possible match",
                    detail=score.explain(),
                )
                reviews.append(review_id)
        return Match(person_id=person_id, rule="review" if reviews else "new", reviews=tuple(reviews))

    def _top(self, scored: list[tuple[str, Score]], count: int = 5) -> list[tuple[str, Score]]:
        """The `count` best-scored persons, the older person first among equal scores. Only ties
        reaching into the top need the persons' ages, so only theirs are read."""
        scored = sorted(scored, key=lambda item: -item[1].total)
        if len(scored) > count:
            last = scored[count - 1][1].total
            scored = [item for item in scored if item[1].total >= last]
        ties = Counter(score.total for _, score in scored)
        scored.sort(
            key=lambda item: (-item[1].total, self.store.seq(item[0]) if ties[item[1].total] > 1 else 0)
        )
        return scored[:count]

    def _new_person(self, facts: Facts) -> str:
        person_id = person_id_for(facts.tokens[0])
        if not self.store.person_exists(person_id):
            self.store.add_person(person_id)
            self.store.audit("new", person_id, None, by=MACHINE, reason="no person matched")
        return person_id

    def _file(self, facts: Facts, person_id: str) -> bool:
        """Attach the record's identifiers and file its facts under its blocking keys; False when
        exactly these facts were filed before (most events of a known person)."""
        owners = self.store.owners(facts.tokens)
        for ident in facts.identifiers:
            verified = facts.verified_nhs and ident.system == NHS_NUMBER
            owner = owners.get(ident.token)
            # an identifier already this person's is left alone unless it is now verified: a
            # rewrite of the same row would still dirty an index page the commit must write
            if owner is None or (owner[0] == person_id and verified and not owner[1]):
                self.store.attach(ident.token, person_id, verified)
        profile_id = resource_id(
            "profile", facts.source_token, facts.nhs, str(facts.verified_nhs), *facts.demographics()
        )
        return self.store.add_profile(profile_id, person_id, facts, index_keys(facts))

    def _contradicts(self, facts: Facts, person_id: str) -> bool:
        scores = [compare(facts, stored).total for stored in self.store.profiles_of(person_id)]
        return bool(scores) and max(scores) < REVIEW_AT - 10

    def _compatible(self, facts: Facts, person_id: str) -> bool:
        """False when both hold verified NHS numbers and they differ: never one person."""
        if not facts.verified_nhs:
            return True
        held = self.store.verified_nhs(person_id)
        return not held or facts.nhs in held

    def _verdicts(self, facts: Facts) -> dict[str, set[str]]:
        """Human verdicts ('same', 'different') between this record's identifiers and each hub
        person holding the other identifier of a decision. One query for the record rather than
        one per candidate: almost no record has a decision, and then nothing more is read."""
        decided = self.store.decisions_about(facts.tokens)
        if not decided:
            return {}
        holders = self.store.persons_of({other for _, other, _ in decided})
        found: dict[str, set[str]] = {}
        for _, other, verdict in decided:
            if other in holders:
                found.setdefault(holders[other], set()).add(verdict)
        return found

    def merge(
        self, a: str, b: str, by: str, reason: str, detail: dict[str, object] | None = None
    ) -> Merge | None:
        """Merge two hub persons (the older id survives); None when a human decision or differing
        verified NHS numbers forbid it, which is audited instead."""
        a, b = self.store.canonical(a), self.store.canonical(b)
        if a == b:
            return None
        verified_a, verified_b = self.store.verified_nhs(a), self.store.verified_nhs(b)
        blocked_by = (
            "a person decided these are different people"
            if "different" in self.store.verdicts_between(a, b) and not by.startswith("user:")
            else "both hold verified, different NHS numbers"
            if verified_a and verified_b and not verified_a & verified_b
            else None
        )
        if blocked_by:
            self.store.audit("merge-refused", a, b, by=by, reason=blocked_by, detail=detail)
            return None
        kept, absorbed = sorted((a, b), key=self.store.seq)
        self.store.move_person(absorbed, kept)
        self.store.move_memberships(absorbed, kept)
        self.store.audit("merge", kept, absorbed, by=by, reason=reason, detail=detail)
        return Merge(kept=kept, absorbed=absorbed, by=by, reason=reason)
