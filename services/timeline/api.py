"""The timeline API for hub staff tools and partner systems (mounted by `hubnet serve api`).

Every route reads through `TimelineAccess` (policy + audit in one place). Authentication is the
web service's (services/web/auth.py): session cookie, HTTP Basic for local accounts, or OIDC via a
trusted proxy. 401 without a user, 403 with the reason when the policy refuses (also audited).
Break-glass: send the reason in the `X-Break-Glass-Reason` header.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool

from schemas.envelope import CONFIDENTIALITY_SYSTEM
from schemas.errors import AuthorisationError, HubnetError
from services.timeline.access import EntryView, PageRequest, SearchQuery, TimelineAccess, TimelineView
from services.timeline.model import Family, Filters, Person, utc_text
from services.timeline.users import Principal

router = APIRouter(prefix="/v1", tags=["timeline"])


def _access(request: Request) -> TimelineAccess:
    access: TimelineAccess = request.app.state.access
    return access


def _principal(request: Request) -> Principal:
    who: Principal | None = request.app.state.auth.principal(request)
    if who is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": 'Basic realm="hubnet"'})
    return who


Access = Annotated[TimelineAccess, Depends(_access)]
Who = Annotated[Principal, Depends(_principal)]
BreakGlass = Annotated[str | None, Header(alias="X-Break-Glass-Reason")]


async def _call(function: Any, *args: Any) -> Any:
    """Run a store read off the event loop; policy refusals become 403, bad input 400."""
    try:
        return await run_in_threadpool(function, *args)
    except AuthorisationError as error:
        raise HTTPException(403, str(error)) from None
    except HubnetError as error:
        raise HTTPException(400, str(error)) from None


def search_query(
    *,
    nhs_number: str = "",
    upn: str = "",
    family_name: str = "",
    given_name: str = "",
    birth_date: str = "",
    postcode: str = "",
) -> SearchQuery:
    """The search fields as query parameters (the API and the search page take the same)."""
    return SearchQuery(nhs_number, upn, family_name, given_name, birth_date, postcode)


Search = Annotated[SearchQuery, Depends(search_query)]


@router.get("/search")
async def search(access: Access, who: Who, query: Search) -> dict[str, Any]:
    """Persons in your hub areas by NHS number, UPN, family name + date of birth, or postcode."""
    found: list[Person] = await _call(access.search, who, query)
    return {"persons": [person_json(p) for p in found]}


@router.get("/families/{family_id}")
async def family(family_id: str, access: Access, who: Who) -> dict[str, Any]:
    """Family composition: members, relationships, household postcode and hub area."""
    found: Family = await _call(access.family, who, family_id)
    return family_json(found)


@router.get("/persons/{person_id}")
async def person(person_id: str, access: Access, who: Who) -> dict[str, Any]:
    found: Person = await _call(access.person, who, person_id)
    return person_json(found)


def _request(
    *,
    domain: Annotated[list[str] | None, Query()] = None,
    partner: Annotated[list[str] | None, Query()] = None,
    event_type: Annotated[list[str] | None, Query()] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    x_break_glass_reason: BreakGlass = None,
) -> PageRequest:
    filters = Filters(
        frozenset(domain or ()), frozenset(partner or ()), frozenset(event_type or ()), since, until
    )
    return PageRequest(filters, cursor, limit, x_break_glass_reason)


Page = Annotated[PageRequest, Depends(_request)]
Form = Annotated[Literal["json", "fhir"], Query(alias="format")]


@router.get("/families/{family_id}/timeline")
async def family_timeline(
    family_id: str, *, access: Access, who: Who, page: Page, request: Request, form: Form = "json"
) -> dict[str, Any]:
    """A family's timeline, newest first; `format=fhir` answers a FHIR R4 searchset Bundle."""
    view: TimelineView = await _call(access.family_timeline, who, family_id, page)
    return _answer(view, request, form)


@router.get("/persons/{person_id}/timeline")
async def person_timeline(
    person_id: str, *, access: Access, who: Who, page: Page, request: Request, form: Form = "json"
) -> dict[str, Any]:
    view: TimelineView = await _call(access.person_timeline, who, person_id, page)
    return _answer(view, request, form)


@router.get("/entries/{event_id}")
async def entry(
    event_id: str, access: Access, who: Who, x_break_glass_reason: BreakGlass = None
) -> dict[str, Any]:
    """One entry with its FHIR resources (withheld entries without them)."""
    view: EntryView = await _call(access.entry, who, event_id, x_break_glass_reason)
    return entry_json(view, resources=True)


def _answer(view: TimelineView, request: Request, form: str) -> dict[str, Any]:
    if form == "fhir":
        return searchset(view, str(request.url))
    return {
        "entries": [entry_json(v) for v in view.entries],
        "next_cursor": view.next_cursor,
        "partners": list(view.partners),
        "break_glass": view.break_glass,
    }


def person_json(person: Person) -> dict[str, Any]:
    return {
        "person_id": person.person_id, "name": person.name, "birth_date": person.birth_date,
        "sex": person.sex, "postcode": person.postcode, "identifiers": list(person.identifiers),
        "family_ids": list(person.family_ids),
    }  # fmt: skip


def family_json(family: Family) -> dict[str, Any]:
    return {
        "family_id": family.family_id,
        "hub_area": family.area,
        "household": {"postcode": family.postcode},
        "members": [{**person_json(m.person), "role": m.role} for m in family.members],
        "relationships": [
            {"person_id": r.person_id, "related_id": r.related_id, "relationship": r.relationship}
            for r in family.relationships
        ],
    }


def entry_json(view: EntryView, resources: bool = False) -> dict[str, Any]:
    entry = view.entry
    shown: dict[str, Any] = {
        "event_id": entry.event_id, "person_id": entry.person_id, "occurred_at": utc_text(entry.occurred_at),
        "recorded_at": utc_text(entry.recorded_at), "partner": entry.partner, "domain": entry.domain.value,
        "sensitivity": entry.sensitivity.value, "visibility": view.visibility.value,
    }  # fmt: skip
    if view.withheld:
        return {**shown, "title": "Restricted record", "how_to_request_access": WITHHELD_HELP}
    shown |= {"event_type": entry.event_type, "title": entry.title, "summary": entry.summary}
    if resources:
        shown["resources"] = list(entry.resources)
    return shown


WITHHELD_HELP = (
    "This entry is restricted. Ask the partner that recorded it, or your hub manager, for access; "
    "in an emergency use break-glass access with your reason (it is recorded)."
)


def searchset(view: TimelineView, url: str) -> dict[str, Any]:
    """A FHIR R4 searchset Bundle: shown entries' resources (mode match) and, for each withheld
    entry, an OperationOutcome (mode outcome) saying so."""
    entries: list[dict[str, Any]] = []
    for item in view.entries:
        if item.withheld:
            entries.append({
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {"severity": "information", "code": "suppressed", "diagnostics": WITHHELD_HELP}
                    ],
                },
                "search": {"mode": "outcome"},
            })  # fmt: skip
            continue
        for resource in item.entry.resources:
            labelled = {**resource, "meta": {**resource.get("meta", {}), "security": [
                {"system": CONFIDENTIALITY_SYSTEM, "code": item.entry.sensitivity.value}]}}  # fmt: skip
            full_url = f"urn:uuid:{resource.get('id')}"
            entries.append({"fullUrl": full_url, "resource": labelled, "search": {"mode": "match"}})
    links = [{"relation": "self", "url": url}]
    if view.next_cursor:
        links.append({"relation": "next", "url": _with_cursor(url, view.next_cursor)})
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}


def _with_cursor(url: str, cursor: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "cursor"] + [("cursor", cursor)]
    return urlunsplit(parts._replace(query=urlencode(query)))
