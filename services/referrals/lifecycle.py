"""The referral lifecycle: hub statuses, the actions that move between them, and how each status
reads as a FHIR `Task.status` (BaRS) and as a DfE "Connect families to support" connection status.

    held ──consent──► (routed again)             awaiting-manager ──assign──► requested
    requested ──open──► opened ──accept──► accepted ──start──► in-progress ──complete──► completed
    requested / opened ──reject(reason)──► the next candidate (requested), else awaiting-manager
    any open status ──cancel(reason)──► cancelled;   linked: told once, joined to an open referral

A rejection closes one *attempt* (one service asked); the referral itself moves on. Pure: no store.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from schemas.errors import HubnetError


class Status(StrEnum):
    """Where a referral is. Terminal: completed, cancelled, linked."""

    HELD = "held"
    AWAITING_MANAGER = "awaiting-manager"
    REQUESTED = "requested"
    OPENED = "opened"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    LINKED = "linked"


class Action(StrEnum):
    """What a service, a hub manager or the referrer does to a referral."""

    OPEN = "open"
    ACCEPT = "accept"
    REJECT = "reject"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
    ASSIGN = "assign"


class LifecycleError(HubnetError):
    """The action does not apply to the referral's status (e.g. completing a referral not started)."""


class Reading(NamedTuple):
    task_status: str
    dfe_status: str


TERMINAL = frozenset({Status.COMPLETED, Status.CANCELLED, Status.LINKED})
AT_SERVICE = frozenset({Status.REQUESTED, Status.OPENED, Status.ACCEPTED, Status.IN_PROGRESS})
WAITING_FOR_SERVICE = frozenset({Status.REQUESTED, Status.OPENED})
NEEDS_REASON = frozenset({Action.REJECT, Action.CANCEL})

_MOVES: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.OPEN: (frozenset({Status.REQUESTED}), Status.OPENED),
    Action.ACCEPT: (WAITING_FOR_SERVICE, Status.ACCEPTED),
    Action.REJECT: (WAITING_FOR_SERVICE, None),  # the router decides: next candidate or manager
    Action.START: (frozenset({Status.ACCEPTED}), Status.IN_PROGRESS),
    Action.COMPLETE: (frozenset({Status.IN_PROGRESS}), Status.COMPLETED),
    Action.CANCEL: (frozenset(Status) - TERMINAL, Status.CANCELLED),
    Action.ASSIGN: (
        frozenset({Status.AWAITING_MANAGER, Status.HELD, *WAITING_FOR_SERVICE}),
        Status.REQUESTED,
    ),
}

# DfE connection requests know New, Opened, Accepted and Declined; the hub's finer statuses read as
# the nearest of those, and FHIR Task.status carries the exact step (BaRS tracks Task.status).
READINGS: dict[Status, Reading] = {
    Status.HELD: Reading("on-hold", "New"),
    Status.AWAITING_MANAGER: Reading("requested", "New"),
    Status.REQUESTED: Reading("requested", "New"),
    Status.OPENED: Reading("received", "Opened"),
    Status.ACCEPTED: Reading("accepted", "Accepted"),
    Status.IN_PROGRESS: Reading("in-progress", "Accepted"),
    Status.COMPLETED: Reading("completed", "Accepted"),
    Status.CANCELLED: Reading("cancelled", "Declined"),
    Status.LINKED: Reading("cancelled", "Declined"),
}
REJECTED_READING = Reading("rejected", "Declined")


def next_status(current: Status, action: Action, reason: str | None = None) -> Status | None:
    """The status after `action`, or None for a rejection (the router picks what follows).

    Raises `LifecycleError` naming the allowed statuses when the action does not apply, or when a
    rejection or cancellation comes without a reason (the family and referrer must be told why)."""
    allowed, target = _MOVES[action]
    if current not in allowed:
        raise LifecycleError(
            f"cannot {action.value} a referral that is {current.value}; "
            f"{action.value} applies to: {', '.join(sorted(s.value for s in allowed))}"
        )
    if action in NEEDS_REASON and not (reason and reason.strip()):
        raise LifecycleError(f"a reason is required to {action.value} a referral")
    return target


def allowed_actions(status: Status) -> list[Action]:
    """The actions that apply to a referral of this status (the staff pages offer these)."""
    return [action for action, (allowed, _) in _MOVES.items() if status in allowed]


def is_terminal(status: Status) -> bool:
    return status in TERMINAL
