"""Gathers what the family summary needs for one signed-in reader, then hands it to the pure
`summarise` (services/timeline/summary.py): the family's entries as the reader may see them
(through `TimelineAccess`, audited), the open referrals the referral rules let them see, and the
end of their previous visit from the audit trail.

Called by the family page before it reads the family (that read is itself audited, and would
otherwise be the "previous visit").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import Request

from services.referrals.access import can_see
from services.referrals.lifecycle import TERMINAL, Status
from services.referrals.service import ReferralService
from services.timeline.access import TimelineAccess
from services.timeline.model import Family
from services.timeline.summary import (
    KEY_WORKER_DAYS,
    FamilySummary,
    OpenReferral,
    previous_visit,
    summarise,
    summary_reads,
)
from services.timeline.users import Principal
from services.web.referral_words import need_words, status_words

LONDON = ZoneInfo("Europe/London")
VISIT_READS = 200
"""Audit records looked at to find the previous visit (a visit of more page views than this ends
the search early: the marker then shows less, never more)."""
OPEN_STATUSES = tuple(s.value for s in Status if s not in TERMINAL)


def last_visit(access: TimelineAccess, who: Principal, family_id: str, now: datetime) -> datetime | None:
    """When this user's previous visit to the family ended (their allowed `family.read`s)."""
    rows = access.audit.store.audit_rows(actor=who.username, target=family_id, limit=VISIT_READS)
    reads = [
        datetime.fromisoformat(r["at"]).astimezone(UTC)
        for r in rows
        if r["action"] == "family.read" and r["outcome"] == "allowed"
    ]
    return previous_visit(reads, now)


def open_referrals(request: Request, who: Principal, family_id: str) -> list[OpenReferral]:
    """The family's open referrals this user may see by the referral rules (none without the
    referral service, or for a role without referral work)."""
    service = getattr(request.app.state, "referrals", None)
    if not isinstance(service, ReferralService):
        return []
    staff = service.staff_of(who)
    if staff is None:
        return []
    marks = ",".join("?" * len(OPEN_STATUSES))
    found = service.store.find(
        f"family_id = ? AND status IN ({marks}) ORDER BY created_at, referral_id", (family_id, *OPEN_STATUSES)
    )
    return [
        OpenReferral(
            r.referral_id,
            need_words(service.network, r.need),
            status_words(r.status.value),
            _day(r.created_at),
        )
        for r in found
        if can_see(staff, r, service.receiving(r))
    ]


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(LONDON).date()


def family_summary(
    request: Request, who: Principal, family: Family, glass: str | None, *, visited: datetime | None,
    now: datetime,
) -> FamilySummary:  # fmt: skip
    """The summary of `family` for `who` (raises `AuthorisationError` as the family read does)."""
    access: TimelineAccess = request.app.state.access
    today = now.astimezone(LONDON).date()
    since = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=KEY_WORKER_DAYS)
    views = access.family_facts(who, family.family_id, summary_reads(since), glass)
    referrals = open_referrals(request, who, family.family_id)
    return summarise(family, views, today, referrals=referrals, last_visit=visited)
