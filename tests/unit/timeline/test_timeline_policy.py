"""Authorisation matrix: role x domain x sensitivity x hub area x consent x break-glass, every cell.

The expected answers are written out here independently of services/timeline/policy.py, as the
access rules in docs/timeline.md state them, so a change of the policy shows up as failing cells.
"""

from __future__ import annotations

import itertools

import pytest

from schemas.envelope import Sensitivity
from schemas.event_types import Domain
from services.timeline.policy import COUNTY_WIDE, Role, Visibility, entry_visibility, family_access

H, E, S, C, B = Domain.HEALTH, Domain.EDUCATION, Domain.SOCIAL_CARE, Domain.COMMUNITY, Domain.HUB
EVERY = {H, E, S, C, B}
# role: (opens families, domains seen, restricted domains seen, may break glass)
EXPECTED: dict[Role, tuple[bool, set[Domain], set[Domain], bool]] = {
    Role.HUB_PRACTITIONER: (True, EVERY, set(), True),
    Role.HEALTH_VISITOR: (True, EVERY, {H, S}, True),
    Role.SCHOOL_NURSE: (True, EVERY, {H}, True),
    Role.SOCIAL_WORKER: (True, EVERY, {S}, True),
    Role.SCHOOL_STAFF: (True, {E, C, B}, set(), False),
    Role.VOLUNTARY_SECTOR_WORKER: (True, {C, B}, set(), False),
    Role.HUB_MANAGER: (True, EVERY, set(), True),
    Role.OPERATIONS: (False, set(), set(), False),
}
MY_AREA, OTHER_AREA = "E07000076", "E07000070"


def test_every_role_is_in_the_matrix() -> None:
    assert set(EXPECTED) == set(Role)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("user_areas", "family_area", "in_area"),
    [
        ((MY_AREA,), MY_AREA, True),
        ((MY_AREA,), OTHER_AREA, False),
        ((MY_AREA,), None, False),
        ((COUNTY_WIDE,), OTHER_AREA, True),
        ((COUNTY_WIDE,), None, True),
        ((), MY_AREA, False),
    ],
)
def test_family_access_cells(
    role: Role, user_areas: tuple[str, ...], family_area: str | None, in_area: bool
) -> None:
    allowed = EXPECTED[role][0] and in_area
    reason = family_access(role, user_areas, family_area)
    if allowed:
        assert reason is None
    else:
        assert reason, f"{role} must be denied a family in {family_area} with areas {user_areas}"


CELLS = list(itertools.product(Role, Domain, Sensitivity, (False, True), (False, True)))


@pytest.mark.parametrize(("role", "domain", "sensitivity", "withdrawn", "glass"), CELLS)
def test_entry_visibility_cells(
    role: Role, domain: Domain, sensitivity: Sensitivity, withdrawn: bool, glass: bool
) -> None:
    _, domains, restricted, may_glass = EXPECTED[role]
    if withdrawn or domain not in domains:
        expected = Visibility.HIDDEN
    elif (
        sensitivity is Sensitivity.NORMAL
        or (glass and may_glass)
        or (sensitivity is Sensitivity.RESTRICTED and domain in restricted)
    ):
        expected = Visibility.SHOWN
    else:
        expected = Visibility.WITHHELD
    got = entry_visibility(
        role,
        domain=domain,
        sensitivity=sensitivity,
        partner="essex-hv",
        withdrawn={"essex-hv"} if withdrawn else {"someone-else"},
        break_glass=glass,
    )
    assert got is expected


def test_denied_cells_are_many_and_all_checked() -> None:
    """Guard against a matrix that stops covering denials: count the cells the policy must refuse."""
    denied = [
        cell
        for cell in CELLS
        if entry_visibility(
            cell[0], domain=cell[1], sensitivity=cell[2], partner="p",
            withdrawn={"p"} if cell[3] else set(), break_glass=cell[4],
        ) is not Visibility.SHOWN
    ]  # fmt: skip
    assert len(CELLS) == 8 * 5 * 3 * 2 * 2
    assert len(denied) > len(CELLS) // 2
