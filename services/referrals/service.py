"""The referral service: linked events, inbox actions and SLA timers in; referral state and
messages (queued in the store's outbox) out. One store transaction per call.

Used alike by the stream worker (`handle`, `scan`), the inbox API (`act`) and the tests, so a
referral behaves the same whichever door it comes through. Idempotent: an event already handled
changes nothing; ids (referral, Task, message) are derived from stored state, never random.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import structlog

from schemas.errors import HubnetError
from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from services.consent.model import ConsentDecision
from services.consent.rules import decisions_of, sharing_decision
from services.referrals import metrics
from services.referrals.access import Receiving, Staff, staff_from_principal
from services.referrals.consent import gate
from services.referrals.current import CurrentNetwork, NoCountyPackError
from services.referrals.lifecycle import WAITING_FOR_SERVICE, Action, LifecycleError, Status, next_status
from services.referrals.messages import kafka_message, referral_event
from services.referrals.network import Network, Offer
from services.referrals.request import ReferralRequest, person_facts, read_request
from services.referrals.routing import Ask, Decision, Outcome, route, week_of
from services.referrals.sla import Clock, SystemClock
from services.referrals.store import Attempt, Referral, ReferralStore, stamp
from services.timeline.users import Principal

log = structlog.get_logger(__name__)
ROUTER = "router"
_OUTCOME_STATUS = {
    Outcome.ROUTED: Status.REQUESTED,
    Outcome.HELD: Status.HELD,
    Outcome.AWAITING_MANAGER: Status.AWAITING_MANAGER,
}


class ReferralNotFoundError(HubnetError):
    """No referral has that id."""


class ReferralService:
    """Routes referrals and moves them through their lifecycle; see the module docstring."""

    def __init__(
        self, store: ReferralStore, network: Network | CurrentNetwork, clock: Clock | None = None
    ) -> None:
        self.store = store
        self._networks = network
        self.clock = clock or SystemClock()

    @property
    def network(self) -> Network:
        """The hub network in use: a fixed one (tests, benchmarks), or the loaded county pack's,
        followed live; `NoCountyPackError` while no pack is loaded."""
        if isinstance(self._networks, Network):
            return self._networks
        return self._networks.network()

    # inputs from fh.linked

    def handle(self, linked: LinkedEvent) -> None:
        """Apply one linked event: referral requests, consents, retractions, and person facts."""
        event = linked.event
        facts = person_facts(linked)
        acts = event.event_type in (
            EventType.REFERRAL_REQUESTED,
            EventType.CONSENT_RECORDED,
            EventType.RECORD_RETRACTED,
        )
        if facts is None and not acts:
            return
        with self.store.transaction():
            if facts is not None:
                self.store.save_person(linked.person_id, facts)
            if not acts or self.store.seen(event.event_id):
                return
            self.store.remember(event.event_id)
            if event.event_type is EventType.REFERRAL_REQUESTED:
                self._requested(read_request(linked))
            elif event.event_type is EventType.CONSENT_RECORDED:
                self._consented(linked)
            elif event.retracts:
                self._retracted(event.source_partner, event.source_system, event.retracts)

    def _requested(self, request: ReferralRequest) -> None:
        earlier = self.store.by_source(request.referrer, request.source_system, request.source_record_id)
        if earlier is not None:  # a later version of a request already routed
            if request.closed_by_partner and earlier.open:
                self._close(earlier, Status.CANCELLED, request.referrer, "the referrer withdrew the request")
            return
        now = self.clock.now()
        for decision in request.consents:
            self.store.record_consent(decision)
        need = self.network.need_for(request.codes)
        home = self.network.home(self.store.person(request.person_id).postcode)
        referral = Referral(
            referral_id=request.referral_id,
            source_event_id=request.event_id,
            source_system=request.source_system,
            source_record_id=request.source_record_id,
            referrer=request.referrer,
            person_id=request.person_id,
            family_id=request.family_id,
            need=need.code if need else None,
            status=Status.AWAITING_MANAGER,
            attempt=0,
            offer_id=None,
            district=None,
            home_district=home.area if home else None,
            linked_to=None,
            reason="received",
            sensitivity=request.sensitivity.value,
            created_at=stamp(now),
            updated_at=stamp(now),
            accepted_at=None,
            completed_at=None,
            escalated_at=None,
            seq=0,
            request={
                "subjects": [s.model_dump() for s in request.subjects],
                "codes": list(request.codes),
                "service_request": request.service_request,
                "trace_id": request.trace_id,
                "referrers": [request.referrer],
            },
        )
        metrics.RECEIVED.labels(self.network.area_name(referral.home_district)).inc()
        primary = self.store.open_for(request.family_id, need.code) if need else None
        if primary is not None:
            self._link(referral, primary)
        else:
            self._route(referral, ROUTER)

    def _link(self, referral: Referral, primary: Referral) -> None:
        """Tell the story once: the new request joins the family's open referral for the same need."""
        reason = (
            f"linked to open referral {primary.referral_id} for the same family and need; "
            "updates on that referral come to every referrer"
        )
        linked = dataclasses.replace(
            referral,
            status=Status.LINKED,
            linked_to=primary.referral_id,
            district=primary.district,
            reason=reason,
        )
        self._emit(linked, ROUTER, [reason])
        referrers = sorted({*primary.request.get("referrers", [primary.referrer]), referral.referrer})
        self.store.save(dataclasses.replace(primary, request={**primary.request, "referrers": referrers}))
        metrics.LINKED.labels(self.network.area_name(primary.district)).inc()

    def _consented(self, linked: LinkedEvent) -> None:
        decisions = decisions_of(linked)
        for decision in decisions:
            self.store.record_consent(decision)
        if any(d.permit for d in decisions):
            for referral in self.store.held_for(linked.person_id, linked.family_ids[0]):
                self._route(referral, ROUTER)

    def _retracted(self, partner: str, source_system: str, record_id: str) -> None:
        """Only the referrer's own retraction cancels its referral."""
        referral = self.store.by_source(partner, source_system, record_id)
        if referral is not None and referral.open:
            self._close(referral, Status.CANCELLED, referral.referrer, "the referrer retracted the request")

    # routing

    def _route(
        self, referral: Referral, actor: str, offer: Offer | None = None, note: str | None = None
    ) -> None:
        """Decide where the referral goes next (or send it to `offer`, a manager's choice) and emit."""
        now = self.clock.now()
        if offer is None:
            decision = self._decide(referral, now)
        else:
            decision = Decision(
                Outcome.ROUTED,
                f"assigned to {offer.name} ({offer.offer_id}) by a hub manager: {note}",
                referral.need,
                referral.home_district,
                offer,
            )
        status = _OUTCOME_STATUS[decision.outcome]
        same_queue = status is referral.status and status is not Status.REQUESTED and referral.attempt > 0
        number = referral.attempt if same_queue else referral.attempt + 1
        chosen = decision.offer
        routed = dataclasses.replace(
            referral,
            status=status,
            attempt=number,
            offer_id=chosen.offer_id if chosen else None,
            district=chosen.area if chosen else decision.home_area or referral.home_district,
            home_district=decision.home_area or referral.home_district,
            need=decision.need or referral.need,
            reason=decision.reason,
            escalated_at=None if not same_queue else referral.escalated_at,
        )
        week = week_of(now, self.network)
        lines = decision.explanation()
        self.store.add_attempt(
            referral.referral_id,
            Attempt(number, routed.offer_id, week, status.value, decision.reason, stamp(now), lines),
        )
        hours = self.network.sla.accept_working_hours if chosen else self.network.sla.manager_working_hours
        due = self.network.calendar.add_working_hours(now, hours)
        self.store.set_timer(referral.referral_id, number, due)
        district = self.network.area_name(routed.district)
        if chosen is not None:
            self.store.take_place(chosen.offer_id, week, +1)
            metrics.ROUTED.labels(district, chosen.service_id).inc()
        elif not same_queue:
            metrics.ESCALATIONS.labels(district, status.value).inc()
        self._emit(routed, actor, lines, due=stamp(due))
        log.info(
            "referral.routed",
            referral_id=referral.referral_id,
            outcome=decision.outcome.value,
            attempt=number,
        )

    def _decide(self, referral: Referral, now: datetime) -> Decision:
        tried = frozenset(a.offer_id for a in self.store.attempts(referral.referral_id) if a.offer_id)
        ask = Ask(
            codes=tuple(referral.request["codes"]),
            person=self.store.person(referral.person_id),
            consent=self._consent(referral),
            tried=tried,
        )
        return route(ask, self.network, self.store, now)

    def _consent(self, referral: Referral) -> ConsentDecision | None:
        """The family's consent to share as it stands (services/consent: any standing withdrawal wins)."""
        return sharing_decision(self.store.standing_consents([referral.family_id], referral.person_id))

    def staff_of(self, who: Principal) -> Staff | None:
        """The referral view of a signed-in user; None for roles without referral work, and while
        no county pack is loaded (nothing can have been routed: there is no work to show)."""
        try:
            return staff_from_principal(who, self.network)
        except NoCountyPackError:
            return None

    def receiving(self, referral: Referral) -> Receiving:
        """Where the referral is, for the access rules: the receiving offer's sector, and the
        consent gate's answer for the voluntary sector as the family's consent stands now."""
        offer = self.network.offer(referral.offer_id) if referral.offer_id else None
        safeguarding = self.network.safeguarding(referral.request.get("codes") or ())
        refusal = gate("voluntary", safeguarding, self._consent(referral))
        return Receiving(offer.sector if offer else None, refusal)

    # inbox actions

    def act(
        self,
        referral_id: str,
        action: Action,
        actor: str,
        reason: str | None = None,
        offer_id: str | None = None,
    ) -> Referral:
        """A service's or hub manager's action; raises `LifecycleError` when it does not apply."""
        with self.store.transaction():
            referral = self.get(referral_id)
            target = next_status(referral.status, action, reason)
            if action is Action.REJECT:
                self._rejected(referral, actor, reason or "")
            elif action is Action.ASSIGN:
                offer = self.network.offer(offer_id or "")
                if offer is None:
                    raise ReferralNotFoundError(f"no service offer {offer_id} in the hub network")
                if offer.sector == "voluntary" and (refused := self.receiving(referral).voluntary_refusal):
                    raise LifecycleError(f"cannot send it to {offer.offer_id}: {refused}")
                self._release(referral, "reassigned by a hub manager")
                self._route(referral, actor, offer, reason or "no reason given")
            elif target is Status.CANCELLED:
                self._close(referral, Status.CANCELLED, actor, reason or "")
            elif target is not None:
                self._advance(referral, target, actor, reason)
            return self.get(referral_id)

    def get(self, referral_id: str) -> Referral:
        """The referral, or `ReferralNotFoundError`."""
        found = self.store.get(referral_id)
        if found is None:
            raise ReferralNotFoundError(f"no referral {referral_id}")
        return found

    def _rejected(self, referral: Referral, actor: str, reason: str) -> None:
        """Close the attempt as declined, tell the referrer, and route to the next candidate."""
        self._release(referral, f"declined: {reason}")
        declined = dataclasses.replace(referral, reason=f"declined by the service: {reason}")
        after = self._emit(declined, actor, [declined.reason], rejected=True)
        offer = self.network.offer(referral.offer_id or "")
        metrics.REROUTES.labels(
            self.network.area_name(referral.district), offer.service_id if offer else ""
        ).inc()
        self._route(after, actor)

    def _release(self, referral: Referral, outcome: str) -> None:
        """End the current attempt; a place not yet taken up is given back for its week."""
        attempt = self.store.close_attempt(referral.referral_id, referral.attempt, outcome, outcome)
        if attempt is not None and attempt.offer_id and referral.status in WAITING_FOR_SERVICE:
            self.store.take_place(attempt.offer_id, attempt.week, -1)

    def _advance(self, referral: Referral, target: Status, actor: str, reason: str | None) -> None:
        now = self.clock.now()
        offer = self.network.offer(referral.offer_id or "")
        labels = (self.network.area_name(referral.district), offer.service_id if offer else "")
        accepted_at, completed_at = referral.accepted_at, referral.completed_at
        if target is Status.ACCEPTED:
            accepted_at = stamp(now)
            self.store.clear_timer(referral.referral_id)
            asked = datetime.fromisoformat(self.store.attempts(referral.referral_id)[-1].at)
            metrics.TIME_TO_ACCEPT.labels(*labels).observe(
                self.network.calendar.working_hours_between(asked, now)
            )
        if target is Status.COMPLETED:
            completed_at = stamp(now)
            days = (now - datetime.fromisoformat(referral.created_at)).total_seconds() / 86400
            metrics.TIME_TO_COMPLETE.labels(*labels).observe(days)
        moved = dataclasses.replace(
            referral,
            status=target,
            reason=reason or f"{target.value} by the service",
            accepted_at=accepted_at,
            completed_at=completed_at,
        )
        self._emit(moved, actor, [])

    def _close(self, referral: Referral, status: Status, actor: str, reason: str) -> None:
        self._release(referral, status.value)
        self.store.clear_timer(referral.referral_id)
        self._emit(dataclasses.replace(referral, status=status, reason=reason), actor, [reason])

    # SLA timers

    def scan(self) -> int:
        """Escalate every referral whose SLA timer is due; returns how many. Durable: timers are rows."""
        now = self.clock.now()
        escalated = 0
        with self.store.transaction():
            for referral_id, attempt in self.store.due_timers(now):
                self.store.fire_timer(referral_id)
                referral = self.store.get(referral_id)
                if referral is None or referral.attempt != attempt or not referral.open:
                    continue
                if referral.status not in (*WAITING_FOR_SERVICE, Status.HELD, Status.AWAITING_MANAGER):
                    continue
                district = self.network.area_name(referral.district)
                hours = (
                    self.network.sla.accept_working_hours
                    if referral.offer_id
                    else self.network.sla.manager_working_hours
                )
                reason = (
                    f"{referral.status.value} for over {hours:g} working hours: "
                    f"escalated to the hub manager of {district}"
                )
                self._emit(
                    dataclasses.replace(referral, escalated_at=stamp(now), reason=reason), ROUTER, [reason]
                )
                offer = self.network.offer(referral.offer_id or "")
                metrics.REFERRAL_SLA_BREACHES.labels(
                    district, offer.service_id if offer else "hub-manager"
                ).inc()
                metrics.ESCALATIONS.labels(district, "sla").inc()
                escalated += 1
        if escalated:
            log.info("referral.escalated", count=escalated)
        return escalated

    # messages

    def _emit(
        self,
        referral: Referral,
        actor: str,
        notes: list[str],
        *,
        rejected: bool = False,
        due: str | None = None,
    ) -> Referral:
        """Save the new state (one more message in its sequence), its history line, and its message."""
        now = stamp(self.clock.now())
        current = dataclasses.replace(referral, seq=referral.seq + 1, updated_at=now)
        self.store.save(current)
        self.store.add_history(current, actor)
        event = referral_event(
            current,
            self.network,
            notes,
            rejected=rejected,
            due=due or self.store.timer_due(current.referral_id),
        )
        self.store.queue(*kafka_message(event, current))
        return current
