"""Referral inbox pages in the hub staff UI: a service's inbox, the hub manager's district view
(queue, overdue, at services), one referral with its routing reasons, and the action form.

`install(app, service)` mounts these pages and the referral API (services/referrals/api.py) on the
staff app, with the app's own sign-in (`app.state.auth`) and audit trail (`app.state.access.audit`),
so referrals are seen and changed under the same sessions, CSRF checks and audit as the timeline.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from schemas.audit import AuditRecord, Outcome
from services.core.settings import Settings
from services.referrals import api
from services.referrals.access import Staff, can_act, staff_from_principal
from services.referrals.current import CurrentNetwork, NoCountyPackError
from services.referrals.lifecycle import Action, LifecycleError, allowed_actions
from services.referrals.service import ReferralNotFoundError, ReferralService
from services.referrals.store import ReferralStore
from services.timeline.users import Principal
from services.web import pages
from services.web.referral_journeys import Journey, journeys
from services.web.referral_rows import InboxRow, RowBuilder, due_words
from services.web.referral_words import need_words, service_words

router = APIRouter(include_in_schema=False)
ACTION_LABELS = {
    Action.OPEN: "Mark as opened",
    Action.ACCEPT: "Accept",
    Action.REJECT: "Decline (give a reason)",
    Action.START: "Start work",
    Action.COMPLETE: "Complete",
    Action.CANCEL: "Cancel (give a reason)",
    Action.ASSIGN: "Send to another service",
}


def install(app: FastAPI, service: ReferralService) -> None:
    """Mount the referral pages and API on the staff app (one call where the app is built)."""
    app.state.referrals = service
    app.state.referral_staff = lambda request: _api_staff(request, service)
    app.state.referral_audit = lambda record: _audit_record(app, record)
    app.state.referral_count = actionable_count
    app.state.templates.env.globals["referral_journeys"] = _journeys
    app.add_exception_handler(NoCountyPackError, _no_county_pack)
    app.include_router(api.router)
    app.include_router(router)


def install_default(app: FastAPI, settings: Settings) -> None:
    """`install` with the referral worker's store (same data folder) and the loaded county pack's
    network, followed live as the worker follows it."""
    store = ReferralStore.from_settings(settings)
    install(app, ReferralService(store, CurrentNetwork.from_settings(settings)))


async def _no_county_pack(request: Request, error: Exception) -> Response:
    """Referral pages and API while no county pack is loaded: say so, never route on a guess."""
    if request.url.path.startswith(api.router.prefix):
        return JSONResponse({"detail": str(error)}, status_code=503)
    return pages.render(request, "error.html", status=503, title="Referrals are not available yet",
                        message=str(error))  # fmt: skip


def _api_staff(request: Request, service: ReferralService) -> Staff:
    who = pages.user(request)
    staff = staff_from_principal(who, service.network) if who else None
    if staff is None:
        raise HTTPException(401 if who is None else 403, "sign in as hub staff who work with referrals")
    return staff


def _audit_record(app: FastAPI, record: AuditRecord) -> None:
    """API audit records go to the same trail as the timeline's: its store row, then fh.audit."""
    app.state.access.audit.write(record)


def _audit(
    request: Request, who: Principal, action: str, target: str | None, *, outcome: Outcome, reason: str | None
) -> None:
    request.app.state.access.audit.record(who, action, target, outcome, reason)


def _service(request: Request) -> ReferralService:
    found: ReferralService = request.app.state.referrals
    return found


def _signed_in(request: Request) -> tuple[Principal, Staff] | Response:
    who = pages.user(request)
    if who is None:
        return pages.to_sign_in(request)
    staff = staff_from_principal(who, _service(request).network)
    if staff is None:
        return pages.render(request, "error.html", status=403, title="You cannot see referrals",
                            message="Your role does not work with referrals.")  # fmt: skip
    return who, staff


def actionable_count(request: Request, who: Principal) -> int | None:
    """For the navigation: referrals waiting on this user (a service's open referrals, or a hub
    manager's queue); None for roles without referral work."""
    service = _service(request)
    staff = service.staff_of(who)
    if staff is None:
        return None
    if staff.role == "hub-manager":
        return len(service.store.in_districts(staff.districts, api.MANAGER_QUEUE))
    return len(api.inbox_of(service, staff))


def _journeys(request: Request, family_id: str) -> list[Journey]:
    """For the family page's referral part (templates/referrals/_family.html)."""
    who = pages.user(request)
    return journeys(_service(request), who, family_id) if who else []


def _rows(request: Request, who: Principal, summaries: list[api.Summary]) -> list[InboxRow]:
    service = _service(request)
    builder = RowBuilder(pages.access(request).store, service.network, who, service.clock.now())
    rows = []
    for summary in summaries:
        referral = service.store.get(summary.referral_id)
        if referral is not None:
            rows.append(builder.row(summary, referral.person_id, referral.family_id))
    return rows


def _manager_rows(
    request: Request, who: Principal, view: dict[str, list[api.Summary]]
) -> dict[str, list[InboxRow]]:
    return {name: _rows(request, who, found) for name, found in view.items()}


@router.get("/referrals", response_model=None)
async def inbox(request: Request) -> Response:
    signed = _signed_in(request)
    if isinstance(signed, Response):
        return signed
    who, staff = signed
    service = _service(request)
    if staff.role == "hub-manager":
        view = await run_in_threadpool(api.manager_view, service, staff)
        _audit(request, who, "referrals.manager", ",".join(staff.districts), outcome="allowed", reason=None)
        queues = await run_in_threadpool(_manager_rows, request, who, view)
        return pages.render(request, "referrals/manager.html", view=queues)
    found = await run_in_threadpool(api.inbox_of, service, staff)
    _audit(request, who, "referrals.inbox", None, outcome="allowed", reason=f"{len(found)} listed")
    rows = await run_in_threadpool(_rows, request, who, found)
    return pages.render(request, "referrals/inbox.html", referrals=rows)


@router.get("/referrals/{referral_id}", response_model=None)
async def show(request: Request, referral_id: str, error: str | None = None) -> Response:
    signed = _signed_in(request)
    if isinstance(signed, Response):
        return signed
    who, staff = signed
    service = _service(request)
    referral = await run_in_threadpool(service.store.get, referral_id)
    if referral is None or not await run_in_threadpool(api.sees, service, staff, referral):
        _audit(
            request,
            who,
            "referrals.read",
            referral_id,
            outcome="denied",
            reason="not found or not for this user",
        )
        missing = "There is no referral with that id for your services or districts."
        return pages.render(request, "error.html", status=404, title="Referral not found", message=missing)
    _audit(request, who, "referrals.read", referral_id, outcome="allowed", reason=None)
    receiving = await run_in_threadpool(service.receiving, referral)
    actions = [a for a in allowed_actions(referral.status) if can_act(staff, referral, a, receiving) is None]
    detail = await run_in_threadpool(api.detail, service, referral)
    network = service.network
    offers = sorted(
        (service_words(network, o.offer_id, network.area_name(o.area)), o.offer_id)
        for o in network.offers
        if referral.need in o.needs
    )
    words = {"need": need_words(network, detail.need),
             "service": service_words(network, detail.offer_id, detail.district),
             "due": due_words(detail.due_at, service.clock.now())}  # fmt: skip
    return pages.render(request, "referrals/detail.html", referral=detail, actions=actions,
                        labels=ACTION_LABELS, offers=offers, words=words, error=error)  # fmt: skip


@router.post("/referrals/{referral_id}", response_model=None)
async def act(
    request: Request,
    referral_id: str,
    *,
    action: Annotated[Action, Form()],
    reason: Annotated[str, Form()] = "",
    offer_id: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    pages.check_csrf(request, csrf)
    signed = _signed_in(request)
    if isinstance(signed, Response):
        return signed
    who, staff = signed
    service = _service(request)
    referral = await run_in_threadpool(service.store.get, referral_id)
    refused = (
        "no such referral"
        if referral is None
        else await run_in_threadpool(api.refusal, service, staff, referral, action)
    )
    if refused:
        _audit(request, who, f"referrals.{action.value}", referral_id, outcome="denied", reason=refused)
        return pages.render(request, "error.html", status=403, title="You cannot do this", message=refused)
    try:
        await run_in_threadpool(
            service.act, referral_id, action, who.username, reason or None, offer_id or None
        )
    except (LifecycleError, ReferralNotFoundError) as error:
        return await show(request, referral_id, error=str(error))
    _audit(request, who, f"referrals.{action.value}", referral_id, outcome="allowed", reason=reason or None)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)
