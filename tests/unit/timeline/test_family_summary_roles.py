"""The family summary through `TimelineAccess` on a real SQLite store, for every demo role: a role
that may not see an entry learns nothing of it from the summary (not its organisation, not the
professional it names, not the dose it records), and the summary read is audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from schemas.errors import AuthorisationError
from schemas.event_types import Domain
from services.timeline.access import TimelineAccess
from services.timeline.policy import GRANTS, Role
from services.timeline.summary import FamilySummary, summarise, summary_reads
from services.timeline.users import Principal
from tests.unit.timeline.events import TENDRING, at
from tests.unit.timeline.summary_events import HIDDEN_NURSE, SECRET_CLINIC, add_summary_events
from tests.unit.timeline.world import build

TODAY = date(2024, 6, 1)
WANTED = summary_reads(at("2023-06-01T00:00:00"))


@pytest.fixture
def access(tmp_path: Path) -> TimelineAccess:
    store, _, audit = build(tmp_path / "timeline.sqlite")
    add_summary_events(store, TODAY)
    return TimelineAccess(store, audit)


def _summary(access: TimelineAccess, role: Role) -> FamilySummary:
    who = Principal(role.value, role.value, role, (TENDRING,))
    family = access.store.family("f1")
    assert family is not None
    return summarise(family, access.family_facts(who, "f1", WANTED), TODAY)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.OPERATIONS])
def test_no_role_learns_from_the_summary_what_its_timeline_withholds(
    access: TimelineAccess, role: Role
) -> None:
    summary = _summary(access, role)
    organisations = {k.organisation for k in summary.key_workers}
    people = {name for k in summary.key_workers for name in k.people}
    baby = next(m for m in summary.members if m.person_id == "baby")
    assert baby.immunisations is not None
    mmr_due = "MMR dose 1" in {d.name for d in baby.immunisations.due}
    sees_restricted_health = Domain.HEALTH in GRANTS[role].restricted
    sees_restricted_care = Domain.SOCIAL_CARE in GRANTS[role].restricted
    assert (SECRET_CLINIC in organisations) is sees_restricted_health
    assert (HIDDEN_NURSE in people) is sees_restricted_health
    assert mmr_due is not sees_restricted_health
    assert ("essex-csc" in organisations) is sees_restricted_care  # the restricted care episode
    sees_education = Domain.EDUCATION in GRANTS[role].domains
    assert (baby.attendance is not None) is sees_education


def test_the_roles_that_see_the_restricted_immunisation_are_the_health_ones(access: TimelineAccess) -> None:
    seeing = {
        r for r in Role if r is not Role.OPERATIONS and HIDDEN_NURSE in str(_summary(access, r).key_workers)
    }
    assert seeing == {Role.HEALTH_VISITOR, Role.SCHOOL_NURSE}


def test_the_summary_read_is_audited_and_refused_outside_the_role(access: TimelineAccess) -> None:
    _summary(access, Role.SCHOOL_STAFF)
    rows = access.audit.store.audit_rows(actor=Role.SCHOOL_STAFF.value, target="f1")
    assert [(r["action"], r["outcome"]) for r in rows] == [("summary.read", "allowed")]
    with pytest.raises(AuthorisationError):
        _summary(access, Role.OPERATIONS)
    refused = access.audit.store.audit_rows(actor=Role.OPERATIONS.value, target="f1")
    assert [(r["action"], r["outcome"]) for r in refused] == [("summary.read", "denied")]
