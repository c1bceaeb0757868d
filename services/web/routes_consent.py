"""Recording a family's consent from the staff UI (#20): the form, and the decision sent through the
consent domain's staff path (services/consent/staff.py), one `consent-recorded` event per partner,
each queued with its `fh.audit` record on the app's durable outbox.

From there the decision travels as every consent does: identity links it to the family, the
timeline applies it, and the referral worker releases the family's held referrals through the
router (services/referrals/service.py). Who may record: services/consent/recorders.py (the rule
`hubnet consent` applies too), for a family they may open on the timeline (the same check, audited,
as the family page).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from schemas.errors import AuthorisationError
from services.consent.recorders import role_refusal
from services.consent.staff import ConsentInputError, record_by_staff
from services.core.publisher import Publisher
from services.core.settings import Settings
from services.gateway.database import Database
from services.gateway.partners import PartnerStore
from services.timeline.model import Family
from services.timeline.users import Principal
from services.web import pages
from services.web.consent_form import ConsentChoice, check, givers

router = APIRouter(include_in_schema=False)
PartnerList = Callable[[], Sequence[tuple[str, str]]]
NO_OUTBOX = "this server has no outbox to send decisions on: start it with `hubnet serve api`"


def install(app: FastAPI, partners: PartnerList) -> None:
    """Mount the consent pages; `partners` lists the (code, name) of active partners to choose from."""
    app.state.consent_partners = partners
    app.include_router(router)


def install_default(app: FastAPI, settings: Settings) -> None:
    """`install` with the gateway's partner registry (same data folder or database)."""

    store = PartnerStore(Database.at(settings))  # one connection for the app's life

    def registered() -> list[tuple[str, str]]:
        return [(p.code, p.name) for p in store.all() if p.active]

    install(app, registered)


def _partners(request: Request) -> list[tuple[str, str]]:
    listing: PartnerList = request.app.state.consent_partners
    return list(listing())


async def _family(request: Request, family_id: str) -> tuple[Principal, Family] | Response:
    """The signed-in user and the family they may record consent for, or the page saying why not
    (the sign-in page, or a refusal): the form and its POST pass the same gate."""
    who = pages.user(request)
    if who is None:
        return pages.to_sign_in(request)
    if refused := role_refusal(who):
        pages.access(request).audit.record(who, "consent.form", family_id, "denied", refused)
        return pages.render(request, "error.html", status=403, title="You cannot record consent",
                            message=refused)  # fmt: skip
    try:
        found: Family = await run_in_threadpool(pages.access(request).family, who, family_id)
    except AuthorisationError as error:
        return pages.render(request, "error.html", status=403, title="You cannot see this",
                            message=str(error))  # fmt: skip
    return who, found


@router.get("/families/{family_id}/consent", response_model=None)
async def form(request: Request, family_id: str) -> Response:
    gate = await _family(request, family_id)
    if isinstance(gate, Response):
        return gate
    _who, family = gate
    return await _render(request, family, {}, {})


FormValues = dict[str, str | list[str]]


async def _render(
    request: Request, family: Family, values: FormValues, errors: dict[str, str], status: int = 200
) -> Response:
    standing = await run_in_threadpool(pages.access(request).store.standing_consents, [family.family_id])
    partners = await run_in_threadpool(_partners, request)
    return pages.render(
        request, "referrals/consent.html", status=status, family=family, givers=givers(family),
        partners=partners, standing=standing, values=values, errors=errors,
        today=datetime.now(UTC).date().isoformat(),
    )  # fmt: skip


@router.post("/families/{family_id}/consent", response_model=None)
async def record(request: Request, family_id: str) -> Response:
    submitted = await request.form()
    pages.check_csrf(request, str(submitted.get("csrf", "")))
    gate = await _family(request, family_id)
    if isinstance(gate, Response):
        return gate
    who, family = gate
    values: FormValues = {k: str(v) for k, v in submitted.items() if k != "about"}
    values["about"] = [str(v) for v in submitted.getlist("about")]
    codes = {code for code, _name in await run_in_threadpool(_partners, request)}
    choice, errors = check(values, family, codes, datetime.now(UTC).date())
    if choice is None:
        return await _render(request, family, values, errors, status=400)
    outbox = pages.access(request).audit.publisher
    if outbox is None:
        return pages.render(request, "error.html", status=503, title="Consent not recorded",
                            message=NO_OUTBOX)  # fmt: skip
    try:
        await run_in_threadpool(_send, outbox, who, choice)
    except ConsentInputError as error:
        return await _render(request, family, values, {"given_by": str(error)}, status=400)
    return RedirectResponse(f"/families/{family_id}?consent={'given' if choice.permit else 'withdrawn'}", 303)


def _send(outbox: Publisher, who: Principal, choice: ConsentChoice) -> None:
    """One decision per partner, each with its audit record (services/consent/staff.py)."""
    for about in choice.about:
        record_by_staff(
            outbox, user=who.username, nhs_number=choice.nhs_number, about=about, permit=choice.permit,
            note=choice.note(), stated_at=choice.stated_at,
        )  # fmt: skip
