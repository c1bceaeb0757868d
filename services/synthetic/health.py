"""NHS contacts of a family's life: GP registrations, consultations and immunisations (FHIR),
hospital births, attendances and admissions (HL7 ADT), health-visiting reviews (hv-csv),
school-age vaccinations (HL7 VXU) and referrals (FHIR ServiceRequest).

Rates are rough public orders of magnitude, tuned so 10,000 families stay quick to generate;
`need` raises the chance of missed reviews, emergency attendances and referrals.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from services.synthetic.partners import COMMUNITY, MENTAL_HEALTH, PARENTING, Partner
from services.synthetic.people import Family, Person
from services.synthetic.records import LifeEvent
from services.synthetic.world import World, count, days, moment, yearly

# (days after birth, vaccines given at that visit) per the UK routine childhood schedule
SCHEDULE: tuple[tuple[int, tuple[tuple[str, str], ...]], ...] = (
    (56, (("6in1-1", "DTaP/IPV/Hib/HepB dose 1"), ("menb-1", "MenB dose 1"), ("rota-1", "Rotavirus dose 1"))),
    (
        84,
        (
            ("6in1-2", "DTaP/IPV/Hib/HepB dose 2"),
            ("pcv-1", "Pneumococcal dose 1"),
            ("rota-2", "Rotavirus dose 2"),
        ),
    ),
    (112, (("6in1-3", "DTaP/IPV/Hib/HepB dose 3"), ("menb-2", "MenB dose 2"))),
    (
        365,
        (
            ("hibmenc", "Hib/MenC booster"),
            ("mmr-1", "MMR dose 1"),
            ("pcv-b", "Pneumococcal booster"),
            ("menb-b", "MenB booster"),
        ),
    ),
    (1218, (("mmr-2", "MMR dose 2"), ("4in1", "DTaP/IPV pre-school booster"))),
)
SCHOOL_VACCINES = (
    (12, ("hpv", "HPV")),
    (13, ("tdipv", "Td/IPV teenage booster")),
    (13, ("menacwy", "MenACWY")),
)
HV_REVIEWS = (COMMUNITY, "hv-csv", "hv-reviews")
SCHOOL_IMMUNISATIONS = (COMMUNITY, "hl7v2", "vxu")
HV_REFERRALS = (COMMUNITY, "fhir", "referrals")
BIRTH_NOTIFICATIONS = (COMMUNITY, "nems", "birth-notifications")
Feed = tuple[Partner, str, str]
"""Who records an event, in which format, in which of its feeds."""
INFANT_FEEDING = (
    "infant-feeding-referral",
    "Infant feeding support",
    "Partly breastfed at the 6-8 week review; mother would like support to keep breastfeeding",
)
SPEECH_LANGUAGE = (
    "speech-and-language-referral",
    "Talk Together speech and language sessions",
    "ASQ-3 communication score low at the 2-year review",
)
"""(referral code, service asked for, reason) of a health visitor's referral after a review."""
LOW_COMMUNICATION = 30
"""ASQ-3 communication score at or under which the 2-year review refers to speech and language help."""
# (review type, first day, last day) after birth; the antenatal contact is before it
REVIEWS = (("new-birth", 10, 14), ("6-8-week", 42, 56), ("12-month", 300, 365), ("2-2.5-year", 730, 900))


class Health:
    """Builds one family's NHS events; `events` returns them in no particular order."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng

    def events(self, family: Family) -> list[LifeEvent]:
        out: list[LifeEvent] = []
        for person in family.members:
            out += self._registrations(family, person)
            out += self._consultations(family, person)
        for child in family.children:
            out += self._infancy(family, child)
            out += self._school_vaccinations(family, child)
        out += self._hospital(family)
        out += self._mental_health_referrals(family)
        return [e for e in out if self.world.within(e.at.date())]

    def _event(
        self, kind: str, when: date | datetime, person: Person, family: Family, feed: Feed, **detail: object
    ) -> LifeEvent:
        """A dated event gets a time of day in working hours; a timed one keeps its time. A
        hospital's ADT message about a child names the child's carers that day as next of kin."""
        at = when if isinstance(when, datetime) else moment(self.rng, when)
        adt = person.role == "child" and feed[2] == "adt"
        kin = tuple(family.carers_of(person, at.date())) if adt else ()
        return LifeEvent(kind, at, person, family, *feed, dict(detail), kin)

    def _gp(self, family: Family, day: date) -> Feed:
        return (self.world.gp(family, day), "fhir", "gp-extract")

    def _adt(self, family: Family, day: date) -> Feed:
        return (self.world.trust(family, day), "hl7v2", "adt")

    def _registrations(self, family: Family, person: Person) -> list[LifeEvent]:
        """A Patient record when a practice takes the person on, and a new version when the
        address or surname it holds changes; with a new record, a RelatedPerson per carer of a
        child, or for an adult the partner they live with (next of kin)."""
        out: list[LifeEvent] = []
        first = max(self.world.start, person.joined) + days(self.rng.randint(10, 40))
        changes = [r.start for r in family.residences[1:]] + [d for d, _ in person.surnames[1:]]
        versions: dict[str, int] = {}
        for day in [first, *sorted(changes)]:
            if day < first or not person.present_on(day):
                continue
            feed = self._gp(family, day)
            version = versions[feed[0].code] = versions.get(feed[0].code, 0) + 1
            kind = "gp-registration" if version == 1 else "patient-update"
            registration = self._event(kind, day, person, family, feed, version=version)
            out.append(registration)
            if version == 1:
                kin = (
                    family.carers_of(person, day)
                    if person.role == "child"
                    else family.partner_of(person, day)
                )
                out += [
                    LifeEvent("related-person", registration.at, person, family, *feed, kin=(k,)) for k in kin
                ]
        return out

    def _consultations(self, family: Family, person: Person) -> list[LifeEvent]:
        out: list[LifeEvent] = []
        for year in yearly(self.world):
            age = person.age_on(year)
            if age < 0 or not person.present_on(year):
                continue
            # coded consultations a practice shares with the hub, not every appointment
            rate = (1.0 if age < 5 else 0.25 if age < 18 else 0.35) * (1 + family.need)
            for _ in range(count(self.rng, rate)):
                day = year + days(self.rng.randrange(365))
                remote = self.rng.random() < 0.3
                out.append(
                    self._event("consultation", day, person, family, self._gp(family, day), remote=remote)
                )
        return out

    def _infancy(self, family: Family, child: Person) -> list[LifeEvent]:
        """The birth notification (NEMS, naming the mother); immunisations and the 6-8 week weight
        at the GP; the health-visiting reviews."""
        rng = self.rng
        born = child.birth_date
        notified = moment(rng, born + days(rng.randint(1, 3)))
        named = (("mother", family.mother),)
        out = [LifeEvent("birth-notification", notified, child, family, *BIRTH_NOTIFICATIONS, kin=named)]
        for offset, vaccines in SCHEDULE:
            if rng.random() < 0.95 - 0.15 * family.need:
                day = born + days(offset + rng.randint(0, 14))
                feed = self._gp(family, day)
                out += [self._event("immunisation", day, child, family, feed, vaccine=v) for v in vaccines]
        day = born + days(rng.randint(42, 56))
        kg = max(2.5, round(rng.gauss(5.0, 0.6), 2))
        out.append(self._event("weight", day, child, family, self._gp(family, day), kg=kg))
        mother = family.mother
        antenatal = born - days(rng.randint(70, 90))
        if mother.present_on(antenatal):
            out.append(self._review(family, mother, antenatal, "antenatal"))
        for review, low, high in REVIEWS:
            visit = self._review(family, child, born + days(rng.randint(low, high)), review)
            out += [visit, *self._referred_after(family, child, visit)]
        if rng.random() < 0.05 + 0.3 * family.need:
            day = born + days(rng.randint(60, 120))
            reason = "Health visitor: parenting support would help"
            out.append(
                self._event(
                    "referral",
                    day,
                    mother,
                    family,
                    HV_REFERRALS,
                    to=PARENTING.code,
                    service="Parenting course",
                    reason=reason,
                )
            )
        return out

    def _review(self, family: Family, person: Person, day: date, review: str) -> LifeEvent:
        rng = self.rng
        roll = rng.random()
        missed = roll < 0.04 + 0.12 * family.need
        outcome = "not-attended" if missed else "declined" if roll > 0.97 else "completed"
        detail: dict[str, object] = {"review_type": review, "outcome": outcome}
        if review in ("new-birth", "6-8-week"):
            detail["breastfeeding"] = rng.choice(("exclusive", "partial", "none"))
        if review in ("12-month", "2-2.5-year") and outcome == "completed":
            detail["asq"] = tuple(min(60, 5 * rng.randint(6, 12)) for _ in range(5))
        if review == "2-2.5-year" and rng.random() < 0.3:
            detail["role"] = "nursery-nurse"
        return self._event("review", day, person, family, HV_REVIEWS, **detail)

    def _referred_after(self, family: Family, child: Person, visit: LifeEvent) -> list[LifeEvent]:
        """What a health visitor refers a child to at a review, there and then: infant-feeding
        support when a baby is partly breastfed at 6-8 weeks, and Talk Together sessions when the
        2-year review's ASQ-3 communication score is low (at or under 30 of 60). Coded with the
        hub's referral codes (network.toml [needs]), so the router can place them."""
        detail = visit.detail
        if detail["outcome"] != "completed":
            return []
        if detail["review_type"] == "6-8-week" and detail.get("breastfeeding") == "partial":
            code, service, reason = INFANT_FEEDING
        elif detail["review_type"] == "2-2.5-year" and detail.get("asq", (60,))[0] <= LOW_COMMUNICATION:
            code, service, reason = SPEECH_LANGUAGE
        else:
            return []
        when = visit.at + timedelta(hours=1)
        referral = {"to": COMMUNITY.code, "code": code, "service": service, "reason": reason}
        return [self._event("referral", when, child, family, HV_REFERRALS, **referral)]

    def _school_vaccinations(self, family: Family, child: Person) -> list[LifeEvent]:
        out: list[LifeEvent] = []
        for age, vaccine in SCHOOL_VACCINES:
            if self.rng.random() < 0.85:
                day = child.birth_date + days(age * 365 + self.rng.randint(150, 300))
                out.append(
                    self._event(
                        "school-vaccination", day, child, family, SCHOOL_IMMUNISATIONS, vaccine=vaccine
                    )
                )
        return out

    def _stay(self, person: Person, family: Family, day: date, *, nights: int, ward: str) -> list[LifeEvent]:
        """An admission and its discharge, sharing a visit number."""
        admitted = moment(self.rng, day, 0, 24)
        visit = f"V{self.rng.randrange(10**8):08d}"
        feed = self._adt(family, day)
        return [
            self._event("admission", admitted, person, family, feed, location=ward, visit=visit),
            self._event(
                "discharge",
                admitted + days(nights),
                person,
                family,
                feed,
                location=ward,
                visit=visit,
                admitted=admitted,
                discharged=True,
            ),
        ]

    def _hospital(self, family: Family) -> list[LifeEvent]:
        """Births (mother admitted and discharged, baby registered), children's emergency
        attendances and admissions, and address updates for people the trust already knows."""
        rng = self.rng
        out: list[LifeEvent] = []
        for child in family.children:
            born = child.birth_date
            if self.world.within(born):
                out += self._stay(family.mother, family, born, nights=rng.randint(1, 3), ward="MATERNITY")
                out.append(
                    self._event(
                        "newborn",
                        moment(rng, born, 0, 24),
                        child,
                        family,
                        self._adt(family, born),
                        location="MATERNITY",
                    )
                )
            for year in yearly(self.world):
                if not 0 <= child.age_on(year) < 18:
                    continue
                for _ in range(count(rng, 0.12 + 0.2 * family.need)):
                    day = year + days(rng.randrange(365))
                    at = moment(rng, day, 0, 24)
                    out.append(
                        self._event("ed-attendance", at, child, family, self._adt(family, day), location="ED")
                    )
                if rng.random() < 0.02:
                    day = year + days(rng.randrange(365))
                    out += self._stay(child, family, day, nights=rng.randint(1, 5), ward="PAEDS")
        known: dict[tuple[str, str], LifeEvent] = {}
        for event in sorted(out, key=lambda e: e.at):
            known.setdefault((event.partner.code, event.person.person_id), event)
        for residence in family.residences[1:]:
            for _key, first in sorted(known.items()):
                if first.at.date() < residence.start and first.person.present_on(residence.start):
                    day = residence.start + days(rng.randint(0, 20))
                    feed = (first.partner, "hl7v2", "adt")
                    out.append(self._event("address-change", day, first.person, family, feed))
        return out

    def _mental_health_referrals(self, family: Family) -> list[LifeEvent]:
        """GP referrals to mental health support: mothers after a birth, and teenagers."""
        rng = self.rng
        out: list[LifeEvent] = []
        for child in family.children:
            if rng.random() < 0.06 + 0.1 * family.need:
                day = child.birth_date + days(rng.randint(60, 200))
                out.append(
                    self._event(
                        "referral",
                        day,
                        family.mother,
                        family,
                        self._gp(family, day),
                        to=MENTAL_HEALTH.code,
                        service="Perinatal mental health support",
                        reason="Low mood after birth",
                    )
                )
            for year in yearly(self.world):
                if 13 <= child.age_on(year) < 18 and rng.random() < 0.01 + 0.04 * family.need:
                    day = year + days(rng.randrange(365))
                    out.append(
                        self._event(
                            "referral",
                            day,
                            child,
                            family,
                            self._gp(family, day),
                            to=MENTAL_HEALTH.code,
                            service="Children and young people's mental health support",
                            reason="Anxiety affecting school",
                        )
                    )
        return out
