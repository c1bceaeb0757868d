"""The partner HTTP API (FastAPI): publish, validate, look up results, and say who you are.

Order of checks on a publish, each with its own status: API key (401), format known (404),
format allowed (403), rate (429 + Retry-After), body size (413), sender claimed (403), records
per input (413, `InputLimits`), then per record: accepted, rejected (dead letter with reason and
field path) or refused. The answer is 202 once the new items are in the durable outbox; 422 when no
record was accepted (the problem lists the field path and reason of the first records, and counts
the rest); 409 when every record resends a record version received before with other content (a
correction needs a new version). Keys never reach a log line: only their public key id.
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Path, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from connectors import registry
from connectors.base import SourceContext
from schemas.envelope import new_trace_id
from schemas.errors import InputLimitError
from services.apidocs import pages as apidocs
from services.core.health import Health as HealthChecks
from services.core.health import add_health_routes
from services.gateway import keys
from services.gateway.api_models import EventStatusView, Health, KeyView, LimitsView, PartnerView
from services.gateway.audit import refusal
from services.gateway.partners import Partner, Principal
from services.gateway.problems import FieldProblem, ProblemError, install, responses
from services.gateway.service import Gateway
from services.gateway.submission import RateLimitedError, RefusedError, SubmissionResult, TooLargeError

log = structlog.get_logger(__name__)
MEDIA_TYPES = (
    "application/fhir+json", "application/json", "application/xml", "text/csv", "text/plain",
    "application/octet-stream",
)  # fmt: skip
RAW_BODY = {
    "requestBody": {
        "required": True,
        "description": "The input exactly as your system produces it: one message or a batch.",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES},
    }
}
FormatName = Annotated[str, Path(alias="format", description="Connector format, e.g. fhir, hl7v2, vcs-csv.")]
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your hubnet API key.")
_bearer = HTTPBearer(auto_error=False, description="Your hubnet API key as a bearer token.")


def authenticated(
    request: Request,
    api_key: Annotated[str | None, Security(_api_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    """FastAPI dependency: the partner the request's API key belongs to, or 401 (audited)."""
    gateway = _gateway(request)
    token = api_key or (bearer.credentials if bearer else None)
    principal = gateway.partners.authenticate(token) if token else None
    if principal is None:
        if token:
            presented = keys.parse(token)
            gateway.submissions.audit(
                refusal(None, "api.authenticate", presented.key_id if presented else None,
                        "unknown, expired or revoked API key", new_trace_id())
            )  # fmt: skip
        raise ProblemError(
            401, "unauthenticated", "A valid API key is required",
            detail="Send your key in the X-API-Key header (or as a bearer token).",
            headers={"WWW-Authenticate": 'Bearer realm="hubnet"'},
        )  # fmt: skip
    return principal


Caller = Annotated[Principal, Depends(authenticated)]


router = APIRouter()


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def build_app() -> FastAPI:
    """The API without a gateway attached: enough for the OpenAPI document."""
    app = FastAPI(
        title="hubnet partner ingestion API",
        version="1",
        description="Publish events from your system to the Family Hub network: docs/partners/onboarding.md",
        docs_url=None,
        redoc_url=None,
    )
    apidocs.install(app)  # /docs and /redoc from vendored assets: they work offline
    app.include_router(router)
    install(app)
    return app


def create_app(gateway: Gateway, health: HealthChecks | None = None) -> FastAPI:
    """The API over a wired `Gateway`; the caller owns the publisher and closes it. With `health`,
    operations' `/healthz`, `/readyz` and `/metrics` are served too (outside the OpenAPI document)."""
    app = build_app()
    app.state.gateway = gateway
    if health is not None:
        add_health_routes(app, health)
    return app


async def _submit(request: Request, fmt: str, principal: Principal, publish: bool) -> JSONResponse:
    """The gateway's one ingest step (see `service`), one check at a time so that a request is
    refused before its body is read wherever it can be."""
    gateway = _gateway(request)
    trace_id = new_trace_id()
    try:
        partner = await run_in_threadpool(gateway.admit, principal.partner.code, fmt, trace_id)
    except registry.UnknownFormatError as error:
        raise ProblemError(404, "unknown-format", "Unknown format", detail=str(error)) from None
    except RefusedError as error:
        raise _forbidden(str(error), trace_id) from None
    except RateLimitedError as limited:
        raise ProblemError(
            429, "rate-limited", "Too many requests", detail=f"Retry after {limited.wait_s:.1f} s.",
            headers={"Retry-After": str(max(1, round(limited.wait_s + 0.5)))}, trace_id=trace_id,
        ) from None  # fmt: skip
    data = await _read_body(request, gateway, partner, fmt, trace_id)
    ctx = SourceContext(
        partner=partner.code, trace_id=trace_id, source_name=request.headers.get("x-source-name")
    )
    try:
        result = await run_in_threadpool(gateway.submissions.submit, partner, fmt, data, ctx, publish)
    except RefusedError as error:
        raise _forbidden(str(error), trace_id) from None
    except InputLimitError as error:
        raise ProblemError(
            413, "too-many-records", "The input holds too much to check in one request",
            detail=str(error), trace_id=trace_id,
        ) from None  # fmt: skip
    log.info("gateway.submitted", partner=result.partner, format=fmt, trace_id=trace_id,
             published=publish, accepted=result.accepted, rejected=result.rejected,
             refused=result.refused)  # fmt: skip
    return _answer(result, 202 if publish else 200)


@router.post(
    "/v1/events/{format}", status_code=202, response_model=SubmissionResult, openapi_extra=RAW_BODY,
    responses=responses(400, 401, 403, 404, 409, 413, 422, 429), summary="Publish one message or a batch",
)  # fmt: skip
async def publish_events(request: Request, fmt: FormatName, principal: Caller) -> JSONResponse:
    """Queue your input in the durable outbox: 202 with one result per record."""
    return await _submit(request, fmt, principal, publish=True)


@router.post(
    "/v1/validate/{format}", response_model=SubmissionResult, openapi_extra=RAW_BODY,
    responses=responses(400, 401, 403, 404, 409, 413, 422, 429), summary="Check without publishing",
)  # fmt: skip
async def validate_events(request: Request, fmt: FormatName, principal: Caller) -> JSONResponse:
    """The same checks as publishing, nothing queued: a sandbox while you build your feed."""
    return await _submit(request, fmt, principal, publish=False)


@router.get("/v1/events/{event_id}", responses=responses(401, 404), summary="What became of an event")
def event_status(
    request: Request,
    event_id: Annotated[str, Path(description="An event id or dead-letter id from a publish result.")],
    principal: Caller,
) -> EventStatusView:
    """Accepted or dead-lettered (with the reason); your own ids only, others are unknown."""
    status = _gateway(request).statuses.get(event_id)
    if status is None or status.partner != principal.partner.code:
        raise ProblemError(404, "unknown-event", "Unknown event id", event_status="unknown")
    return EventStatusView(
        id=status.item_id, status=status.state, event_type=status.event_type, reason=status.reason,
        location=status.location, record_ref=status.record_ref, trace_id=status.trace_id, at=status.at,
    )  # fmt: skip


@router.get("/v1/partners/me", responses=responses(401), summary="Who you are, what you may publish")
def partner_me(request: Request, principal: Caller) -> PartnerView:
    partner, key, limits = principal.partner, principal.key, _gateway(request).limits
    return PartnerView(
        code=partner.code, name=partner.name, org_ids=list(partner.org_ids),
        sender_ids=list(partner.sender_ids), formats=list(partner.formats),
        event_types=list(partner.event_types), known_formats=registry.formats(),
        key=KeyView(key_id=key.key_id, created_at=key.created_at, expires_at=key.expires_at),
        limits=LimitsView(max_body_bytes=limits.max_body_bytes, rate_per_s=limits.rate_per_s,
                          burst=limits.burst),
    )  # fmt: skip


@router.get("/health", summary="Liveness, without authentication")
def health() -> Health:
    return Health()


async def _read_body(request: Request, gateway: Gateway, partner: Partner, fmt: str, trace_id: str) -> bytes:
    """The body, refused with 413 (audited) as soon as it is known to exceed the limit (never read
    past it)."""
    limit = gateway.limits.max_body_bytes

    async def too_large(size: int) -> ProblemError:
        try:
            await run_in_threadpool(gateway.check_size, partner, size, fmt, trace_id)
        except TooLargeError as error:
            detail = f"{error} (send at most {limit} bytes per request)"
            return ProblemError(413, "too-large", "The request body is too large", detail=detail,
                                trace_id=trace_id)  # fmt: skip
        raise AssertionError("over the limit but not refused")  # pragma: no cover

    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise await too_large(int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise await too_large(size)
        chunks.append(chunk)
    if not size:
        raise ProblemError(
            400, "empty-body", "The request body is empty", detail="Send one message or a batch."
        )
    return b"".join(chunks)


def _forbidden(reason: str, trace_id: str) -> ProblemError:
    return ProblemError(403, "forbidden", "Not allowed for this partner", detail=reason, trace_id=trace_id)


def _answer(result: SubmissionResult, success: int) -> JSONResponse:
    """202/200 when anything was accepted; 422 when every record was rejected; 409 when every record
    changed a version received before; 403 when all were refused."""
    body: dict[str, Any] = result.model_dump(mode="json")
    if result.accepted or not result.items:
        return JSONResponse(body, status_code=success)
    if result.rejected:
        errors = [
            FieldProblem(location=i.location, reason=i.reason or "", record_ref=i.record_ref,
                         dead_letter_id=i.dead_letter_id).model_dump()
            for i in result.items if i.status == "rejected" and i.reason is not None
        ]  # fmt: skip
        detail = "No record was accepted; each is listed with where and why. Fix and resend."
        if result.reasons_omitted:
            detail = (
                f"No record was accepted; the first {len(errors)} are listed with where and why, "
                f"{result.reasons_omitted} more are not (each keeps its dead_letter_id in the result). "
                "Fix and resend."
            )
        raise ProblemError(422, "rejected", "The input was rejected", detail=detail, trace_id=result.trace_id,
                           errors=errors, errors_omitted=result.reasons_omitted or None,
                           result=body)  # fmt: skip
    if result.conflicts == result.refused:
        raise ProblemError(409, "conflict", "A record version was already received with other content",
                           detail=result.items[0].reason, trace_id=result.trace_id, result=body)  # fmt: skip
    raise ProblemError(403, "forbidden", "Not allowed for this partner", detail=result.items[0].reason,
                       trace_id=result.trace_id, result=body)  # fmt: skip
