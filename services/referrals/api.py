"""Referral inboxes over HTTP: a service's open referrals, the overdue list, the hub manager's view
across a district, one referral with its routing explanation, and the lifecycle actions.

A FastAPI router. The app that mounts it puts a `ReferralService` on `app.state.referrals`, a
staff resolver on `app.state.referral_staff` (request -> `Staff`, from the staff UI's session; it
raises 401 when nobody is signed in) and may put an audit sink on `app.state.referral_audit`
(`AuditRecord` -> None; default: an id-only log line). Every read and every action is audited,
allowed or refused, naming ids only. Actions queue their messages in the store; the referral worker
publishes them on fh.referrals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from schemas.audit import AuditRecord, Outcome
from services.referrals.access import NOT_YOURS, Staff, can_act, can_see
from services.referrals.lifecycle import AT_SERVICE, READINGS, Action, LifecycleError, Status
from services.referrals.service import ReferralNotFoundError, ReferralService
from services.referrals.store import Referral

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1/referrals", tags=["referrals"])
MANAGER_QUEUE = (Status.AWAITING_MANAGER.value, Status.HELD.value)
TIMELINE_PATH = "/families/{family_id}"  # the staff UI's family page (services/web)


class ActionBody(BaseModel):
    reason: str | None = Field(
        default=None, description="Required to reject or cancel; shown to the referrer."
    )
    offer_id: str | None = Field(default=None, description="For assign: the service@site to send it to.")


class Summary(BaseModel):
    """One line of an inbox: ids and statuses only, the family one click away."""

    referral_id: str
    status: str
    task_status: str
    dfe_status: str
    need: str | None
    offer_id: str | None
    district: str
    referrer: str
    created_at: str
    updated_at: str
    due_at: str | None
    escalated: bool
    restricted: bool
    timeline: str


class Detail(Summary):
    reason: str
    linked_to: str | None
    attempts: list[dict[str, Any]]
    history: list[dict[str, str]]


def _service(request: Request) -> ReferralService:
    service: ReferralService = request.app.state.referrals
    return service


def _staff(request: Request) -> Staff:
    resolve: Callable[[Request], Staff] | None = getattr(request.app.state, "referral_staff", None)
    if resolve is None:
        raise HTTPException(401, "sign in as hub staff")
    return resolve(request)


Service = Annotated[ReferralService, Depends(_service)]
CurrentStaff = Annotated[Staff, Depends(_staff)]


def _audit(
    request: Request, staff: Staff, action: str, target: str | None, *, outcome: Outcome, reason: str | None
) -> None:
    record = AuditRecord(
        actor=staff.user_id,
        actor_role=staff.role,
        action=action,
        target=target,
        outcome=outcome,
        reason=reason,
    )
    sink: Callable[[AuditRecord], None] | None = getattr(request.app.state, "referral_audit", None)
    if sink is not None:
        sink(record)
    else:
        log.info("referrals.audit", actor=staff.user_id, action=action, target=target, outcome=outcome)


def _not_found(request: Request, staff: Staff, action: str, referral_id: str) -> NoReturn:
    """404, audited as a refusal: asking for ids one may not know is worth seeing on the trail."""
    _audit(request, staff, action, referral_id, outcome="denied", reason="no such referral")
    raise HTTPException(404, f"no referral {referral_id}")


def summary(service: ReferralService, referral: Referral) -> Summary:
    reading = READINGS[referral.status]
    return Summary(
        referral_id=referral.referral_id,
        status=referral.status.value,
        task_status=reading.task_status,
        dfe_status=reading.dfe_status,
        need=referral.need,
        offer_id=referral.offer_id,
        district=service.network.area_name(referral.district or referral.home_district),
        referrer=referral.referrer,
        created_at=referral.created_at,
        updated_at=referral.updated_at,
        due_at=service.store.timer_due(referral.referral_id) if referral.open else None,
        escalated=referral.escalated_at is not None,
        restricted=referral.sensitivity != "N",
        timeline=TIMELINE_PATH.format(family_id=referral.family_id),
    )


def detail(service: ReferralService, referral: Referral) -> Detail:
    return Detail(
        **summary(service, referral).model_dump(),
        reason=referral.reason,
        linked_to=referral.linked_to,
        attempts=[
            {
                "attempt": a.attempt,
                "offer_id": a.offer_id,
                "outcome": a.outcome,
                "at": a.at,
                "explanation": a.explanation,
            }
            for a in service.store.attempts(referral.referral_id)
        ],
        history=[
            {"at": at, "status": status, "actor": actor, "reason": reason}
            for at, status, actor, reason in service.store.history(referral.referral_id)
        ],
    )


def sees(service: ReferralService, staff: Staff, referral: Referral) -> bool:
    """The access rule (services/referrals/access.py) with the referral's receiving side now."""
    return can_see(staff, referral, service.receiving(referral))


def refusal(service: ReferralService, staff: Staff, referral: Referral, action: Action) -> str | None:
    return can_act(staff, referral, action, service.receiving(referral))


def inbox_of(service: ReferralService, staff: Staff) -> list[Summary]:
    """Open referrals at the services the staff member is assigned to, in their hub areas."""
    return [summary(service, r) for r in service.store.open_at(staff.offers) if sees(service, staff, r)]


def manager_view(service: ReferralService, staff: Staff) -> dict[str, list[Summary]]:
    """A hub manager's districts: the manager queue (unroutable, held), overdue, and at services."""
    store, districts = service.store, staff.districts
    return {
        "queue": [summary(service, r) for r in store.in_districts(districts, MANAGER_QUEUE)],
        "overdue": [summary(service, r) for r in store.overdue(service.clock.now(), districts)],
        "at_services": [
            summary(service, r) for r in store.in_districts(districts, [s.value for s in AT_SERVICE])
        ],
    }


@router.get("/inbox")
async def inbox(request: Request, service: Service, staff: CurrentStaff) -> list[Summary]:
    """Open referrals sent to the services and sites you work at, oldest first."""
    found = await run_in_threadpool(inbox_of, service, staff)
    _audit(request, staff, "referrals.inbox", None, outcome="allowed", reason=f"{len(found)} listed")
    return found


@router.get("/manager")
async def manager(request: Request, service: Service, staff: CurrentStaff) -> dict[str, list[Summary]]:
    """Hub manager's view across their districts: queue, overdue, and referrals at services."""
    if staff.role != "hub-manager":
        _audit(request, staff, "referrals.manager", None, outcome="denied", reason="not a hub manager")
        raise HTTPException(403, "only hub managers see the district view")
    view = await run_in_threadpool(manager_view, service, staff)
    _audit(request, staff, "referrals.manager", ",".join(staff.districts), outcome="allowed", reason=None)
    return view


@router.get("/{referral_id}")
async def show(referral_id: str, request: Request, service: Service, staff: CurrentStaff) -> Detail:
    """One referral: where it is, every routing decision with its reasons, and its history."""
    referral = await run_in_threadpool(service.store.get, referral_id)
    if referral is None:
        _not_found(request, staff, "referrals.read", referral_id)
    if not await run_in_threadpool(sees, service, staff, referral):
        _audit(
            request,
            staff,
            "referrals.read",
            referral_id,
            outcome="denied",
            reason="not for this user's services",
        )
        raise HTTPException(403, NOT_YOURS)
    _audit(request, staff, "referrals.read", referral_id, outcome="allowed", reason=None)
    return await run_in_threadpool(detail, service, referral)


@router.post("/{referral_id}/{action}")
async def act(
    referral_id: str,
    action: Action,
    body: ActionBody,
    *,
    request: Request,
    service: Service,
    staff: CurrentStaff,
) -> Detail:
    """open, accept, reject (reason), start, complete, cancel (reason), or assign (hub managers)."""
    referral = await run_in_threadpool(service.store.get, referral_id)
    if referral is None:
        _not_found(request, staff, f"referrals.{action.value}", referral_id)
    refused = await run_in_threadpool(refusal, service, staff, referral, action)
    if refused:
        _audit(request, staff, f"referrals.{action.value}", referral_id, outcome="denied", reason=refused)
        raise HTTPException(403, refused)
    try:
        done = await run_in_threadpool(
            service.act, referral_id, action, staff.user_id, body.reason, body.offer_id
        )
    except LifecycleError as error:
        raise HTTPException(409, str(error)) from None
    except ReferralNotFoundError as error:
        raise HTTPException(422, str(error)) from None
    _audit(request, staff, f"referrals.{action.value}", referral_id, outcome="allowed", reason=body.reason)
    return await run_in_threadpool(detail, service, done)
