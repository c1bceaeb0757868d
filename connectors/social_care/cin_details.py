"""One CINdetails (a child's referral episode in the CIN census) to hub events.

| element | FHIR | hub event code |
|---|---|---|
| CINreferralDate, ReferralSource, PrimaryNeedCode | ServiceRequest | social-care-referral |
| Assessments (start, authorisation, factors) | Procedure `assessment` | social-care-assessment |
| CINPlanDates | CarePlan `cin-plan` | care-episode |
| Section47 (start, initial conference) | Procedure `s47-enquiry` | social-care-assessment |
| ChildProtectionPlans (dates, categories of abuse) | CarePlan `cp-plan` + Flag | care-episode |
| CINclosureDate, ReasonForClosure | EpisodeOfCare `cin-case` | care-episode |
| ReasonForClosure RC9 | ServiceRequest `early-help-referral` | referral-requested |

Record ids are `<LAchildID>/<CINreferralDate>/<part>/<start date>`: stable across census years, so a
later census updates the same records. An episode holding a section 47 enquiry or a protection
plan is restricted as a whole; so is an assessment with factors (abuse, domestic abuse, mental
health and sexual exploitation are among them) and a referral for abuse or neglect (N1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from connectors.common.problems import Findings
from connectors.common.xml_elements import XmlNode
from connectors.social_care import resources
from connectors.social_care.codes import (
    ABUSE_CATEGORIES,
    ABUSE_CATEGORY_SYSTEM,
    ASSESSMENT_FACTOR_SYSTEM,
    CLOSURE_REASON_SYSTEM,
    CLOSURE_REASONS,
    PRIMARY_NEED_SYSTEM,
    PRIMARY_NEEDS,
    REFERRAL_SOURCE_SYSTEM,
    REFERRAL_SOURCES,
    STEP_DOWN,
    coding,
)
from connectors.social_care.events import ChildEvents
from connectors.social_care.timing import check_not_future, check_order
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from schemas.event_types import EventType

NFA = ("true", "1")


def map_details(events: ChildEvents, details: XmlNode, received: date, found: Findings) -> list[HubEvent]:
    """Every event of one referral episode, in the order the census lists its parts; each part's
    problems are noted in `found` and the other parts read on (the caller raises them)."""
    referred = found.take(details.require_date, "CINreferralDate")
    found.take(check_not_future, referred, received, details.at("CINreferralDate"))
    if referred is None:
        return []  # every part's record id names the referral date
    parts = _Parts(
        events=events,
        base=f"{events.child.subjects[0].value}/{referred.isoformat()}",
        received=received,
        restricted=bool(details.children("Section47") or details.children("ChildProtectionPlans")),
    )
    out = [found.take(parts.referral, details, referred)]
    out += [found.take(parts.assessment, item) for item in details.children("Assessments")]
    out += [found.take(parts.cin_plan, item) for item in details.children("CINPlanDates")]
    out += [found.take(parts.section47, item) for item in details.children("Section47")]
    out += [found.take(parts.protection_plan, item) for item in details.children("ChildProtectionPlans")]
    out += found.take(parts.closure, details, referred) or []
    return [event for event in out if event is not None]


@dataclass
class _Parts:
    """What the parts of one episode share; `seen` keeps record ids unique when dates repeat."""

    events: ChildEvents
    base: str
    received: date
    restricted: bool
    seen: set[str] = field(default_factory=set)

    def _record_id(self, part: str, start: date) -> str:
        record_id = f"{self.base}/{part}/{start.isoformat()}"
        count = 1
        while record_id in self.seen:
            count += 1
            record_id = f"{self.base}/{part}/{start.isoformat()}#{count}"
        self.seen.add(record_id)
        return record_id

    def _span(self, node: XmlNode, start_name: str, end_name: str) -> tuple[date, date | None]:
        """A start and optional end date: neither in the future, the end not before the start; every
        problem of the two named at once."""
        found = Findings()
        start = found.take(node.require_date, start_name)
        end = found.take(node.as_date, end_name)
        found.take(check_not_future, start, self.received, node.at(start_name))
        found.take(check_not_future, end, self.received, node.at(end_name))
        found.take(check_order, start, end, node.at(end_name))
        found.check()
        return cast(date, start), end

    def _event(
        self,
        code: EventType,
        record_id: str,
        day: date,
        items: list[dict[str, Any]],
        restricted: bool = False,
    ) -> HubEvent:
        return self.events.event(code, record_id, day, items, restricted or self.restricted)

    def referral(self, details: XmlNode, referred: date) -> HubEvent:
        record_id = f"{self.base}/referral"
        found = Findings()
        source = found.take(details.code, "ReferralSource", REFERRAL_SOURCES)
        need = found.take(details.code, "PrimaryNeedCode", PRIMARY_NEEDS)
        found.check()
        closed = details.as_date("CINclosureDate") is not None or (details.text("ReferralNFA") or "") in NFA
        request = resources.service_request(
            self.events.resource_id("ServiceRequest", record_id),
            self.events.patient_reference,
            "referral",
            referred,
            active=not closed,
            reasons=[resources.codeable(PRIMARY_NEED_SYSTEM, need, PRIMARY_NEEDS)] if need else [],
            source=coding(REFERRAL_SOURCE_SYSTEM, source, REFERRAL_SOURCES) if source else None,
        )
        restricted = need is not None and PRIMARY_NEEDS[need].restricted
        return self._event(EventType.SOCIAL_CARE_REFERRAL, record_id, referred, [request], restricted)

    def assessment(self, node: XmlNode) -> HubEvent:
        start, end = self._span(node, "AssessmentActualStartDate", "AssessmentAuthorisationDate")
        record_id = self._record_id("assessment", start)
        factors = [
            (item.element.text or "").strip().upper()
            for item in node.items("FactorsIdentifiedAtAssessment", "AssessmentFactors")
        ]
        reasons = [{"coding": [{"system": ASSESSMENT_FACTOR_SYSTEM, "code": f}]} for f in factors if f]
        assessment = resources.procedure(
            self.events.resource_id("Procedure", record_id),
            self.events.patient_reference,
            "assessment",
            start=start,
            end=end,
            reasons=reasons,
        )
        return self._event(EventType.SOCIAL_CARE_ASSESSMENT, record_id, start, [assessment], bool(reasons))

    def cin_plan(self, node: XmlNode) -> HubEvent:
        start, end = self._span(node, "CINPlanStartDate", "CINPlanEndDate")
        record_id = self._record_id("cin-plan", start)
        plan = resources.care_plan(
            self.events.resource_id("CarePlan", record_id),
            self.events.patient_reference,
            "cin-plan",
            start=start,
            end=end,
        )
        return self._event(EventType.CARE_EPISODE, record_id, start, [plan])

    def section47(self, node: XmlNode) -> HubEvent:
        """A section 47 enquiry ends at its initial child protection conference, when there is one."""
        start, conference = self._span(node, "S47ActualStartDate", "DateOfInitialCPC")
        record_id = self._record_id("s47", start)
        enquiry = resources.procedure(
            self.events.resource_id("Procedure", record_id),
            self.events.patient_reference,
            "s47-enquiry",
            start=start,
            end=conference,
        )
        return self._event(EventType.SOCIAL_CARE_ASSESSMENT, record_id, start, [enquiry], restricted=True)

    def protection_plan(self, node: XmlNode) -> HubEvent:
        start, end = self._span(node, "CPPstartDate", "CPPendDate")
        record_id = self._record_id("cp-plan", start)
        found = Findings()
        codes = [
            found.take(node.code, name, ABUSE_CATEGORIES)
            for name in ("InitialCategoryOfAbuse", "LatestCategoryOfAbuse")
        ]
        found.check()
        categories = [
            resources.codeable(ABUSE_CATEGORY_SYSTEM, code, ABUSE_CATEGORIES)
            for code in dict.fromkeys(c for c in codes if c)
        ]
        who = self.events.patient_reference
        plan = resources.care_plan(
            self.events.resource_id("CarePlan", record_id),
            who,
            "cp-plan",
            start=start,
            end=end,
            extra=categories,
        )
        alert = resources.flag(
            self.events.resource_id("Flag", record_id),
            who,
            "cp-plan",
            start=start,
            end=end,
            detail=categories,
        )
        return self._event(EventType.CARE_EPISODE, record_id, start, [plan, alert], restricted=True)

    def closure(self, details: XmlNode, referred: date) -> list[HubEvent]:
        """The closed case; RC9 (referred to early help) also makes a hub referral (step-down)."""
        closed = details.as_date("CINclosureDate")
        if closed is None:
            return []
        found = Findings()
        found.take(check_not_future, closed, self.received, details.at("CINclosureDate"))
        found.take(check_order, referred, closed, details.at("CINclosureDate"))
        reason = found.take(details.code, "ReasonForClosure", CLOSURE_REASONS)
        if reason is None and details.text("ReasonForClosure") is None:
            found.note(
                MappingError(
                    "a closed episode needs its reason for closure",
                    details.at("ReasonForClosure"),
                    hint="add ReasonForClosure (RC1 to RC9) when CINclosureDate is given",
                )
            )
        found.check()
        reason = str(reason)
        record_id = f"{self.base}/closure"
        extra = [resources.codeable(CLOSURE_REASON_SYSTEM, reason, CLOSURE_REASONS)]
        case = resources.episode(
            self.events.resource_id("EpisodeOfCare", record_id),
            self.events.patient_reference,
            "cin-case",
            start=referred,
            end=closed,
            extra=extra,
        )
        out = [self._event(EventType.CARE_EPISODE, record_id, closed, [case])]
        if reason == STEP_DOWN:
            out.append(self.events.step_down(record_id, closed, extra))
        return out
