"""RFC 9457 problem details: every error the API returns is `application/problem+json`.

Handlers here turn hubnet's own refusals, FastAPI's request validation, unknown routes and any
unexpected fault into one body shape, so partner code needs one error parser. A fault inside
hubnet is logged by type only and answered 503 (retry later), never with a stack trace.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors.common.problems import element_path

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://hubnet.example.org/problems/"


class FieldProblem(BaseModel):
    """One thing wrong with the input, and where."""

    location: str | None = Field(default=None, description="Field path, segment-field, line/column.")
    reason: str
    record_ref: str | None = None
    dead_letter_id: str | None = None


class Problem(BaseModel):
    """Problem details (RFC 9457) with hubnet's extension members."""

    type: str = Field(description="URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    trace_id: str | None = Field(default=None, description="Quote it when you contact the hub team.")
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raised by route code; becomes a problem+json response with `status`."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    def response(self) -> JSONResponse:
        body = {"type": TYPE_BASE + self.slug, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        body.update({k: v for k, v in self.extensions.items() if v is not None})
        return JSONResponse(body, status_code=self.status, headers=self.headers, media_type=PROBLEM_JSON)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses a route can return. The body refers
    to the `Problem` component (registered through `model`): an inline copy of its JSON Schema
    would point at `#/$defs/FieldProblem`, which no OpenAPI document holds (ReDoc failed on it)."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {status: {"model": Problem, "content": {PROBLEM_JSON: {"schema": schema}}} for status in statuses}


def install(app: FastAPI) -> None:
    """Register the handlers that make every error a problem+json body."""

    async def hubnet_problem(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ProblemError)
        return error.response()

    async def invalid_request(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            FieldProblem(location=element_path("", e.get("loc", ())), reason=str(e.get("msg", "")))
            for e in error.errors()
        ]
        return ProblemError(
            422, "invalid-request", "The request is not valid", errors=[e.model_dump() for e in errors]
        ).response()

    async def http_problem(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        slug = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        return ProblemError(
            error.status_code, slug, str(error.detail), headers=dict(error.headers or {})
        ).response()

    async def fault(request: Request, error: Exception) -> JSONResponse:
        log.error("gateway.fault", path=request.url.path, error_type=type(error).__name__)
        return ProblemError(
            503, "temporarily-unavailable", "hubnet could not process the request",
            detail="This is a hubnet fault, not yours: nothing was queued. Retry later.",
            headers={"Retry-After": "30"},
        ).response()  # fmt: skip

    app.add_exception_handler(ProblemError, hubnet_problem)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(Exception, fault)
