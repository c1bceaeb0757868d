"""structlog set-up with a redaction processor: personal data never reaches a log line.

Redaction runs last before rendering, on every event (including exception text), so a careless
`log.info(..., patient=...)` anywhere in hubnet is still safe. Keys that name personal data lose
their values; free text loses anything shaped like an NHS number, a UPN, a postcode, an e-mail
address or a date of birth.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from services.core.settings import Settings

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "name", "names", "given", "family", "surname", "forename", "forenames", "prefix", "suffix",
        "firstname", "lastname", "fullname", "birthdate", "dob", "dateofbirth", "address", "addresses",
        "line", "postcode", "postalcode", "zip", "phone", "telephone", "mobile", "telecom", "email",
        "nhsnumber", "upn", "nino", "text", "original", "originalb64", "apikey", "password", "secret",
        "token", "authorization",
    }
)  # fmt: skip
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE),
        r"\1[redacted]@",
    ),  # URL password
    (re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"), "[nhs-number]"),
    (re.compile(r"\b[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]\b"), "[upn]"),
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE), "[postcode]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email]"),
    (re.compile(r"\b(?:19|20)\d{2}-[01]\d-[0-3]\d\b(?!T)"), "[date]"),
    (re.compile(r"\b[0-3]?\d/[01]?\d/(?:19|20)\d{2}\b"), "[date]"),
)


_ID_KEYS = frozenset({"traceid", "eventid", "deadletterid", "auditid", "reviewid", "referralid", "taskid"})
_OPAQUE_ID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|[0-9a-f]{16,64}"
)
"""hubnet's own ids (UUIDs, hex digests): their digit runs are not NHS numbers."""


@functools.cache
def _normal_key(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def redact_value(value: Any) -> Any:
    """Redact inside any structure: sensitive keys lose values, strings lose PII-shaped text."""
    if isinstance(value, str):
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {
            k: REDACTED if _normal_key(str(k)) in SENSITIVE_KEYS else redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [redact_value(v) for v in value]
    return value


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor; keeps the event name and log level readable, redacts the rest."""
    for key in list(event_dict):
        if key in ("level", "timestamp", "logger"):
            continue
        value = event_dict[key]
        if key == "exception" and isinstance(value, list):
            event_dict[key] = [_redact_exception(part) for part in value]
        elif _normal_key(key) in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        elif _normal_key(key) in _ID_KEYS and isinstance(value, str) and _OPAQUE_ID.fullmatch(value):
            continue  # a trace or event id stays whole, so logs can be followed across services
        else:
            event_dict[key] = redact_value(value)
    return event_dict


def _redact_exception(part: Any) -> Any:
    """One exception of a structured traceback: its message redacted like any text, its frames'
    file, line and function names kept (a function's `name` is code, not a person's)."""
    if not isinstance(part, dict):
        return redact_value(part)
    frames = [
        {k: v if k in ("filename", "lineno", "name") else redact_value(v) for k, v in frame.items()}
        for frame in part.get("frames", [])
        if isinstance(frame, dict)
    ]
    return {**{k: redact_value(v) for k, v in part.items() if k != "frames"}, "frames": frames}


class _CurrentStderr:
    """Whatever `sys.stderr` is at write time, so test runners that swap it never see a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Called once by each entry point; JSON for machines, console for people at a terminal."""
    out: Any = stream or _CurrentStderr()
    use_console = settings.log_format == "console" or (settings.log_format == "auto" and out.isatty())
    renderer: Any = structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    # Exceptions as text on a console, as structured frames in JSON (exception type, value, file,
    # line, function), for structlog's own lines and library lines alike: a traceback object
    # rendered by JSON was only "<traceback object at 0x...>" (issue #21). Redaction runs after.
    exceptions: Any = (
        structlog.processors.format_exc_info
        if use_console
        else structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
    )  # never locals: they hold the records being processed
    level = logging.getLevelNamesMapping()[settings.log_level]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            exceptions,
            redact_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Libraries (kafka-python, faust, uvicorn) log through stdlib logging: route and redact them too.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                exceptions,
                redact_personal_data,
                renderer,
            ],
            foreign_pre_chain=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(level, logging.WARNING))
    # kafka-python logs every refused connection as an error while a broker boots or restarts;
    # hubnet reports broker trouble itself (status, relay warnings), so keep those for DEBUG.
    logging.getLogger("kafka").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.CRITICAL)
