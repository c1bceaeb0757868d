"""Hub staff pages: search, family (members + filterable timeline), person, entry, break-glass.

Every read goes through `TimelineAccess`, as the API's do; a refusal renders the reason (403).
Filters are a plain GET form, paging a "next" link with the cursor, so nothing needs JavaScript.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from schemas.errors import AuthorisationError, HubnetError
from schemas.event_types import Domain, EventType
from services.timeline.access import MIN_REASON, PageRequest
from services.timeline.api import WITHHELD_HELP, Search
from services.timeline.model import Filters
from services.timeline.policy import GRANTS, Role
from services.web import pages, search_form
from services.web.family_summary import family_summary, last_visit
from services.web.sessions import glass_reason, grant_glass

router = APIRouter(include_in_schema=False)
REFERRAL_TYPES = frozenset({EventType.REFERRAL_REQUESTED.value, EventType.REFERRAL_STATUS_CHANGED.value})
DOMAIN_LABELS = {
    Domain.HEALTH.value: "Health",
    Domain.EDUCATION.value: "Education",
    Domain.SOCIAL_CARE.value: "Social care",
    Domain.COMMUNITY.value: "Community",
    Domain.HUB.value: "Family hub",
}
Many = Annotated[list[str] | None, Query()]


async def _guarded(request: Request, function: Any, *args: Any) -> Any:
    """Call an access method; a refusal or bad input becomes an error page."""
    try:
        return await run_in_threadpool(function, *args)
    except AuthorisationError as error:
        return pages.render(
            request, "error.html", status=403, title="You cannot see this", message=str(error)
        )
    except HubnetError as error:
        return pages.render(request, "error.html", status=400, title="There is a problem", message=str(error))


@router.get("/", response_model=None)
async def search(request: Request, query: Search) -> Response:
    who = pages.user(request)
    if who is None:
        return pages.to_sign_in(request)
    if who.role is Role.OPERATIONS and not any(vars(query).values()):
        return RedirectResponse("/ops", status_code=303)  # operations read no family: their home is /ops
    searched = any(vars(query).values())
    errors = search_form.by_field(query) if searched else {}
    if errors:  # the form again, as typed, saying what is missing or wrong
        return pages.render(
            request, "search.html", status=400, query=query, searched=False, results=[], errors=errors
        )
    results: Any = []
    if searched:
        results = await _guarded(request, pages.access(request).search, who, query)
        if isinstance(results, Response):
            return results
    return pages.render(request, "search.html", query=query, searched=searched, results=results, errors={})


def _filters(domain: list[str] | None, partner: list[str] | None, since: str, until: str) -> Filters:
    return Filters(
        domains=frozenset(domain or ()), partners=frozenset(p for p in partner or () if p),
        since=_day(since), until=_day(until, end=True),
    )  # fmt: skip


def _day(text: str, end: bool = False) -> datetime | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, 23 if end else 0, 59 if end else 0, tzinfo=UTC)


@router.get("/families/{family_id}", response_model=None)
async def family(
    request: Request, family_id: str, *, domain: Many = None, partner: Many = None,
    since: str = "", until: str = "", cursor: str | None = None,
) -> Response:  # fmt: skip
    who = pages.user(request)
    if who is None:
        return pages.to_sign_in(request)
    now = datetime.now(UTC)  # the previous visit is read before this visit's reads are audited
    visited = await run_in_threadpool(last_visit, pages.access(request), who, family_id, now)
    found = await _guarded(request, pages.access(request).family, who, family_id)
    if isinstance(found, Response):
        return found
    glass = glass_reason(pages.session(request), [family_id])
    summarised = partial(family_summary, visited=visited, now=now)
    summary = await _guarded(request, summarised, request, who, found, glass)
    if isinstance(summary, Response):
        return summary
    page = PageRequest(_filters(domain, partner, since, until), cursor, 50, glass)
    view = await _guarded(request, pages.access(request).family_timeline, who, family_id, page)
    if isinstance(view, Response):
        return view
    referrals = [v for v in view.entries if v.entry.event_type in REFERRAL_TYPES and not v.withheld]
    return pages.render(
        request, "family.html", family=found, view=view, referrals=referrals, target=family_id,
        kind="families", summary=summary, last_visit=visited, **_labels(),
        form={"domain": domain or [], "partner": partner or [], "since": since, "until": until},
    )  # fmt: skip


@router.get("/persons/{person_id}", response_model=None)
async def person(request: Request, person_id: str, cursor: str | None = None) -> Response:
    who = pages.user(request)
    if who is None:
        return pages.to_sign_in(request)
    found = await _guarded(request, pages.access(request).person, who, person_id)
    if isinstance(found, Response):
        return found
    glass = glass_reason(pages.session(request), [found.person_id, *found.family_ids])
    view = await _guarded(
        request,
        pages.access(request).person_timeline,
        who,
        found.person_id,
        PageRequest(Filters(), cursor, 50, glass),
    )
    if isinstance(view, Response):
        return view
    return pages.render(
        request, "person.html", person=found, view=view, target=found.person_id, kind="persons", **_labels()
    )


@router.get("/entries/{event_id}", response_model=None)
async def entry(request: Request, event_id: str) -> Response:
    who = pages.user(request)
    if who is None:
        return pages.to_sign_in(request)
    store = pages.access(request).store
    record = await run_in_threadpool(store.entry, event_id)
    owner = await run_in_threadpool(store.person, record.person_id) if record else None
    targets = [owner.person_id, *owner.family_ids] if owner else []
    glass = glass_reason(pages.session(request), targets)
    view = await _guarded(request, pages.access(request).entry, who, event_id, glass)
    if isinstance(view, Response):
        return view
    return pages.render(request, "entry.html", item=view, person=owner, **_labels())


@router.get("/break-glass/{kind}/{target}", response_model=None)
def break_glass_page(request: Request, kind: str, target: str) -> Response:
    if pages.user(request) is None:
        return pages.to_sign_in(request)
    return pages.render(request, "break_glass.html", kind=_kind(kind), target=target, error=None, reason="")


@router.post("/break-glass/{kind}/{target}", response_model=None)
def break_glass(
    request: Request, kind: str, target: str,
    reason: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    pages.check_csrf(request, csrf)
    who = pages.user(request)
    if who is None:
        return pages.to_sign_in(request)
    try:  # audits a refusal (role or reason) on the family or person asked for
        pages.access(request).check_break_glass(who, target, reason)
    except AuthorisationError:
        if GRANTS[who.role].break_glass:
            return _reason_again(request, kind, target, reason)
        return pages.render(
            request, "error.html", status=403, title="You cannot use break-glass access",
            message="Your role may not use break-glass access. Ask your hub manager.",
        )  # fmt: skip
    grant_glass(pages.session(request), target, reason.strip())
    pages.save(request)
    return RedirectResponse(f"/{_kind(kind)}/{target}", status_code=303)


def _reason_again(request: Request, kind: str, target: str, reason: str) -> Response:
    """The break-glass form again, saying what reason is needed."""
    error = f"Enter the reason you need to see restricted entries (at least {MIN_REASON} characters)"
    return pages.render(
        request, "break_glass.html", status=400, kind=_kind(kind), target=target, error=error, reason=reason
    )


def _kind(kind: str) -> str:
    return "persons" if kind == "persons" else "families"


def _labels() -> dict[str, Any]:
    return {"domains": DOMAIN_LABELS, "withheld_help": WITHHELD_HELP}
