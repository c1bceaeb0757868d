"""The operations pages of the staff app (`/ops`, operations role only): the figures of
`hubnet status` with charts of the last hour, and the dead letters with replay and discard.

- The overview shows the latest report `hubnet monitor` saved in the ops store (services/ops/
  history.py), not a collection of its own: collecting sets the network-wide gauges, which only the
  monitor exports. It says when the monitor last collected and warns when that is overdue.
- Dead letters are read from `fh.dlq` and `fh.dlq.status` on every request (as `hubnet dlq`), and
  replayed or discarded with services/ops/dead_letters.py through the app's durable publisher.
- Everything works without JavaScript. /static/ops.js, when it runs, reloads the overview's
  figures once the monitor has collected again, and offers a pause button (WCAG 2.2.2).
- Every page read and every attempt by another role is on the audit trail; an allowed discard is
  audited by `dead_letters.discard` itself, with the status change, in one outbox transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel

from schemas.audit import Outcome
from schemas.errors import HubnetError
from services.core.broker import require_bootstrap
from services.core.publisher import Publisher
from services.core.settings import Settings
from services.gateway.replays import ReplayDoor
from services.gateway.service import Gateway
from services.ops import dead_letters, history
from services.ops.dead_letters import Entry, Filter
from services.ops.store import OpsStore
from services.timeline.policy import Role
from services.timeline.users import Principal
from services.web import ops_view, pages

router = APIRouter(prefix="/ops", include_in_schema=False)
LoadDeadLetters = Callable[[], list[Entry]]


@dataclass(frozen=True)
class OpsBackend:
    """What the pages read and write through; tests give an in-memory loader and publisher."""

    store: OpsStore
    load_dead_letters: LoadDeadLetters
    publisher: Publisher
    gateway: Gateway  # replays go through the gateway's ingest step as each letter's partner


def install(
    app: FastAPI,
    settings: Settings,
    *,
    load_dead_letters: LoadDeadLetters | None = None,
    publisher: Publisher | None = None,
) -> None:
    """Mount /ops on the staff app: the monitor's ops store in the data dir, dead letters from the
    configured broker, and the app's own durable publisher (the audit trail's) for replay and discard."""
    if load_dead_letters is None:
        bootstrap = require_bootstrap(settings)
        load_dead_letters = lambda: dead_letters.load(settings, bootstrap)  # noqa: E731 - a bound reader
    publisher = publisher or app.state.access.audit.publisher
    if publisher is None:
        raise HubnetError("the ops pages need a publisher for replay and discard (the audit trail has none)")
    gateway = Gateway.open(settings, publisher)
    app.state.ops = OpsBackend(OpsStore.in_data_dir(settings), load_dead_letters, publisher, gateway)
    app.include_router(router)


def _backend(request: Request) -> OpsBackend:
    found: OpsBackend = request.app.state.ops
    return found


def _audit(
    request: Request, who: Principal, action: str, target: str | None, outcome: Outcome, *, reason: str | None
) -> None:
    request.app.state.access.audit.record(who, action, target, outcome, reason)


def _operator(request: Request, action: str, target: str | None = None) -> Principal | Response:
    """The signed-in operations user, or the sign-in redirect / 403 page; every attempt is audited."""
    who = pages.user(request)
    if who is None:
        return pages.to_sign_in(request)
    allowed = who.role is Role.OPERATIONS
    refused = None if allowed else "operations role only"
    _audit(request, who, action, target, "allowed" if allowed else "denied", reason=refused)
    if not allowed:
        return pages.render(request, "error.html", status=403, title="Operations only",
                            message="These pages are for the operations team.")  # fmt: skip
    return who


@router.get("", response_model=None)
async def overview(request: Request) -> Response:
    who = _operator(request, "ops.overview")
    if isinstance(who, Response):
        return who
    view = await run_in_threadpool(ops_view.overview, _backend(request).store, datetime.now(UTC))
    return pages.render(request, "ops/overview.html", view=view)


@router.get("/collected", response_model=None)
def collected(request: Request) -> Response:
    """When the monitor last collected (for /static/ops.js); no figures, so allowed polls are not audited."""
    who = pages.user(request)
    if who is None or who.role is not Role.OPERATIONS:
        if who is not None:
            _audit(request, who, "ops.overview", "collected", "denied", reason="operations role only")
        return PlainTextResponse("operations role only", status_code=401 if who is None else 403)
    saved = history.latest_report(_backend(request).store)
    return PlainTextResponse(saved[0].collected_at.isoformat() if saved else "")


def _instant(text: str, end_of_day: bool) -> datetime | None:
    """A date (the whole day) or a date and time from a filter field; naive times are UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        when = datetime.fromisoformat(text)  # ValueError goes to the form as an error
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)


class Filters(BaseModel):
    """The list's filter form, as typed (so the form shows it again) and as a `Filter`."""

    partner: str = ""
    connector: str = ""
    reason: str = ""
    since: str = ""
    until: str = ""
    state: Literal["open", "all"] = "open"

    def parsed(self) -> tuple[Filter, dict[str, str]]:
        """The filter and the fields that could not be read, with what to type instead."""
        errors: dict[str, str] = {}
        bounds: dict[str, datetime | None] = {}
        for name, text, end in (("since", self.since, False), ("until", self.until, True)):
            try:
                bounds[name] = _instant(text, end)
            except ValueError:
                errors[name] = f"Enter '{name}' as a date like 2025-06-01 or a time like 2025-06-01T09:30"
                bounds[name] = None
        flt = Filter(
            partner=self.partner.strip() or None,
            connector=self.connector.strip() or None,
            reason=self.reason.strip() or None,
            since=bounds["since"],
            until=bounds["until"],
            include_closed=self.state == "all",
        )
        return flt, errors

    def described(self) -> str | None:
        """The filters set, for the audit trail's target. The reason filter is free text typed by
        the operator (it may quote a name or an NHS number from a dead letter), so only its length
        is kept, never the text; the other filters are codes and times."""
        fields = self.model_dump(exclude_defaults=True, include=set(Filters.model_fields))
        if "reason" in fields:
            fields["reason"] = f"({len(self.reason)} characters)"
        return "&".join(f"{k}={v}" for k, v in fields.items()) or None


class ListQuery(Filters):
    discarded: str = ""
    """Set after a discard: the id it closed, for the confirmation banner."""


class ReplayForm(Filters):
    csrf: str = ""
    scope: Literal["selected", "filtered"] = "selected"
    id: list[str] = []
    """One per ticked checkbox (scope "selected")."""


class DiscardForm(BaseModel):
    csrf: str = ""
    reason: str = ""


async def _list_page(
    request: Request, filters: Filters, *, status: int = 200, problem: str | None = None, discarded: str = ""
) -> Response:
    flt, errors = filters.parsed()
    entries = await run_in_threadpool(_backend(request).load_dead_letters)
    shown = [e for e in entries if flt(e)]
    return pages.render(
        request,
        "ops/dead_letters.html",
        status=400 if errors else status,
        entries=shown,
        form=filters,
        errors=errors,
        problem=problem,
        discarded=discarded,
        total_open=sum(e.open for e in entries),
    )


@router.get("/dead-letters", response_model=None)
async def dead_letter_list(request: Request, query: Annotated[ListQuery, Query()]) -> Response:
    who = _operator(request, "ops.dlq.list", query.described())
    if isinstance(who, Response):
        return who
    return await _list_page(request, query, discarded=query.discarded)


async def _find(request: Request, dead_letter_id: str) -> Entry | None:
    entries = await run_in_threadpool(_backend(request).load_dead_letters)
    try:
        return dead_letters.find(entries, dead_letter_id)
    except HubnetError:
        return None


def _detail_page(request: Request, entry: Entry, *, status: int = 200, error: str | None = None) -> Response:
    original = entry.letter.original.decode("utf-8", errors="backslashreplace")
    return pages.render(
        request,
        "ops/dead_letter.html",
        status=status,
        entry=entry,
        letter=entry.letter,
        error=error,
        original=original,
    )


def _not_found(request: Request) -> Response:
    missing = "No dead letter has that id. Go back to the list and choose one."
    return pages.render(request, "error.html", status=404, title="Dead letter not found", message=missing)


@router.get("/dead-letters/{dead_letter_id}", response_model=None)
async def dead_letter(request: Request, dead_letter_id: str) -> Response:
    who = _operator(request, "ops.dlq.read", dead_letter_id)
    if isinstance(who, Response):
        return who
    entry = await _find(request, dead_letter_id)
    return _not_found(request) if entry is None else _detail_page(request, entry)


@router.post("/dead-letters/replay", response_model=None)
async def replay(request: Request, form: Annotated[ReplayForm, Form()]) -> Response:
    pages.check_csrf(request, form.csrf)
    chosen = set(form.id)
    target = ",".join(sorted(chosen)) if form.scope == "selected" else form.described()
    who = _operator(request, "ops.dlq.replay", target or None)
    if isinstance(who, Response):
        return who
    flt, errors = form.parsed()
    entries = await run_in_threadpool(_backend(request).load_dead_letters)
    if form.scope == "selected":
        picked = [e for e in entries if e.open and e.letter.dead_letter_id in chosen]
        if not picked:
            problem = "Select at least one open dead letter to replay"
            return await _list_page(request, form, status=400, problem=problem)
    elif errors:
        return await _list_page(request, form)
    else:
        picked = [e for e in entries if e.open and flt(e)]
    backend = _backend(request)
    door = ReplayDoor(backend.gateway, who.username, "dead letters replayed from the ops page")
    report = await run_in_threadpool(
        lambda: dead_letters.replay(picked, backend.publisher, who.username, door=door)
    )
    outcome = f"{len(report.replayed)} replayed, {len(report.still_failing)} still failing"
    _audit(request, who, "ops.dlq.replay.done", target or None, "allowed", reason=outcome)
    return pages.render(request, "ops/replayed.html", report=report, asked=len(picked))


@router.post("/dead-letters/{dead_letter_id}/discard", response_model=None)
async def discard(request: Request, dead_letter_id: str, form: Annotated[DiscardForm, Form()]) -> Response:
    pages.check_csrf(request, form.csrf)
    who = _operator(request, "ops.dlq.discard", dead_letter_id)
    if isinstance(who, Response):
        return who
    entry = await _find(request, dead_letter_id)
    if entry is None:
        return _not_found(request)
    if not entry.open:
        return _detail_page(request, entry, status=409, error="This dead letter is already closed")
    reason = form.reason.strip()
    if not reason:
        missing = "Enter why nobody will fix this input (it is kept in the audit trail)"
        return _detail_page(request, entry, status=400, error=missing)
    publisher = _backend(request).publisher
    await run_in_threadpool(dead_letters.discard, entry, reason, who.username, publisher)
    closed = entry.letter.dead_letter_id[:12]
    return RedirectResponse(f"/ops/dead-letters?discarded={closed}", status_code=303)
