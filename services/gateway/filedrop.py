"""File drop: one inbox per partner and format, each file processed once, then moved with a report.

Layout: `DIR/<partner code>/<format>/incoming/`; results go to `done/` (every record accepted) or
`failed/` (anything rejected or refused, or the file could not be taken), each file with a
`<name>.report.json` beside it.

Only regular files placed directly in an inbox are read (see `dropped_files`): a symbolic link,
hard link, FIFO, socket, device or folder is moved to `failed/` unread with a report saying why,
and audited; so is a file over the gateway's size limit. Inboxes reached through a linked folder
are not scanned at all.

Partial writes: a file is taken only once its modification time is `settle_s` old, and names
ending `.part` or `.tmp` or starting with `.` are ignored, so a partner may also write `x.part`
and rename it into place. Restarts: a ledger (file digest -> state) in the gateway database says
what was finished; a file found `processing` after a crash is run again, and because event ids
are deterministic and the idempotency store is checked, nothing is published twice. A file found
`processing` `MAX_ATTEMPTS` times was being worked on each time the watcher died: it is moved to
`failed/` instead of killing every restart. Any error while one file is submitted (a connector
fault, say) fails that file alone, with its report; the scan goes on with the next.

Commit order per file: 1. ledger `processing`; 2. submit (outbox + statuses in one gateway
transaction); 3. ledger `done`/`failed` with the report; 4. report file written; 5. file moved. A
crash before 3 re-runs the file (nothing new is published); after 3, the move is simply finished.
"""

from __future__ import annotations

import hashlib
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import structlog

from connectors.base import SourceContext
from connectors.registry import UnknownFormatError
from schemas.envelope import new_trace_id
from schemas.errors import InputLimitError
from services.gateway.audit import refusal
from services.gateway.database import Database
from services.gateway.dropped_files import UnsafeFileError, is_real_folder, read_dropped
from services.gateway.partners import Partner
from services.gateway.schema import MIGRATIONS
from services.gateway.service import Gateway
from services.gateway.submission import PUBLISH, RateLimitedError, RefusedError

log = structlog.get_logger(__name__)
FileState = Literal["processing", "done", "failed"]
INCOMING, DONE, FAILED = "incoming", "done", "failed"
IGNORED_SUFFIXES = (".part", ".tmp")
MAX_ATTEMPTS = 2
"""Times a file may be found half-processed (the watcher died on it) before it is set aside."""


@dataclass(frozen=True)
class DroppedFile:
    """A file in an inbox, named in the ledger by partner, format and content digest."""

    partner: str
    fmt: str
    digest: str
    name: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one dropped file."""

    path: Path
    state: FileState
    report: dict[str, Any]


class FileLedger:
    """Repository of dropped files by content digest (plain SQL; see `database`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate(MIGRATIONS)

    def finished(self, file: DroppedFile) -> tuple[FileState, dict[str, Any]] | None:
        row = self._db.row(
            "SELECT state, report FROM drop_files WHERE partner = ? AND format = ? AND digest = ? "
            "AND state <> 'processing'",
            (file.partner, file.fmt, file.digest),
        )
        return (row[0], orjson.loads(row[1])) if row else None

    def attempts(self, file: DroppedFile) -> int:
        """How often processing of this file began and never finished."""
        row = self._db.row(
            "SELECT attempts FROM drop_files WHERE partner = ? AND format = ? AND digest = ? "
            "AND state = 'processing'",
            (file.partner, file.fmt, file.digest),
        )
        return int(row[0]) if row else 0

    def mark(self, file: DroppedFile, state: FileState, report: dict[str, Any] | None = None) -> None:
        """Record a state; marking `processing` counts one more attempt."""
        self._db.execute(
            "INSERT INTO drop_files (partner, format, digest, name, state, report, at, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (partner, format, digest) DO UPDATE SET "
            "name = excluded.name, state = excluded.state, report = excluded.report, at = excluded.at, "
            "attempts = drop_files.attempts + excluded.attempts",
            (
                file.partner, file.fmt, file.digest, file.name, state,
                None if report is None else orjson.dumps(report).decode(), datetime.now(UTC).isoformat(),
                int(state == "processing"),
            ),
        )  # fmt: skip


class FileDrop:
    """Scans the inboxes under `root` and feeds each settled file to the gateway's submissions."""

    def __init__(
        self, root: Path, gateway: Gateway, settle_s: float = 2.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.root = root
        self._gateway = gateway
        self._ledger = FileLedger(gateway.db)
        self._settle_s = settle_s
        self._clock = clock

    def inboxes(self) -> list[tuple[str, str, Path]]:
        """(partner, format, incoming folder) for every inbox present; never one reached through a
        linked folder (that would read files outside the drop)."""
        return [
            (incoming.parent.parent.name, incoming.parent.name, incoming)
            for incoming in sorted(self.root.glob(f"*/*/{INCOMING}"))
            if all(is_real_folder(p) for p in (incoming, incoming.parent, incoming.parent.parent))
        ]

    def scan(self) -> list[Outcome]:
        """One pass over every inbox; returns what was processed."""
        outcomes = []
        for partner, fmt, incoming in self.inboxes():
            for path in sorted(incoming.iterdir()):
                if self._settled(path) and (outcome := self.process(partner, fmt, path)):
                    outcomes.append(outcome)
        return outcomes

    def run(
        self,
        stop: threading.Event,
        interval_s: float = 1.0,
        on_outcome: Callable[[Outcome], None] = lambda _: None,
    ) -> None:
        """Scan until `stop` is set (SIGTERM or Ctrl-C in the CLI)."""
        while not stop.is_set():
            for outcome in self.scan():
                on_outcome(outcome)
            stop.wait(interval_s)

    def process(self, partner: str, fmt: str, path: Path) -> Outcome | None:
        """Run one file (or finish it after a restart) and move it with its report; None when the
        partner is over its rate (the file waits for a later scan)."""
        try:
            data = read_dropped(path, self._gateway.limits.max_body_bytes)
        except UnsafeFileError as error:
            return self._set_aside(partner, fmt, path, str(error))
        file = DroppedFile(partner, fmt, hashlib.sha256(data).hexdigest(), path.name)
        finished = self._ledger.finished(file)
        if finished is None:
            ran = self._run_once(file, data)
            if ran is None:
                return None
            state, report = ran
            report |= {
                "file": path.name,
                "sha256": file.digest,
                "processed_at": datetime.now(UTC).isoformat(),
            }
            self._ledger.mark(file, state, report)
        else:
            state, report = finished
        log.info("filedrop.processed", partner=partner, format=fmt, file_sha256=file.digest[:16], state=state)
        return self._move(path, state, report)

    def _run_once(self, file: DroppedFile, data: bytes) -> tuple[FileState, dict[str, Any]] | None:
        """Through the gateway's one ingest step, unless the watcher already died on this file
        `MAX_ATTEMPTS` times."""
        ctx = SourceContext(partner=file.partner, source_name=f"{file.fmt}/{file.name}")
        try:
            partner = self._gateway.admit(file.partner, file.fmt, ctx.trace_id)
        except (RefusedError, UnknownFormatError) as error:
            return "failed", {"error": str(error), "trace_id": ctx.trace_id}
        except RateLimitedError:
            return None
        attempts = self._ledger.attempts(file)
        if attempts >= MAX_ATTEMPTS:
            log.error("filedrop.set_aside", partner=file.partner, format=file.fmt, attempts=attempts)
            return "failed", {
                "error": f"processing this file was interrupted {attempts} times (the watcher stopped "
                "while working on it), so it is set aside and the other files go on; the hub team "
                "can look into it with its sha256"
            }
        self._ledger.mark(file, "processing")
        return self._submit(partner, file.fmt, data, ctx)

    def _submit(
        self, partner: Partner, fmt: str, data: bytes, ctx: SourceContext
    ) -> tuple[FileState, dict[str, Any]]:
        try:
            result = self._gateway.submissions.submit(partner, fmt, data, ctx, publish=True)
        except (RefusedError, InputLimitError) as error:  # the report says the cap: split the file
            return "failed", {"error": str(error), "trace_id": ctx.trace_id}
        except Exception as error:  # one file's fault must never stop every partner's drop
            kind = type(error).__name__
            log.error("filedrop.file_failed", partner=partner.code, format=fmt, error_type=kind,
                      trace_id=ctx.trace_id)  # fmt: skip
            return "failed", {
                "error": f"hubnet could not process this file ({kind}): check that it is "
                f"a valid '{fmt}' file; if it is, tell the hub team and quote the trace id",
                "trace_id": ctx.trace_id,
            }
        state: FileState = "done" if result.items and result.accepted == len(result.items) else "failed"
        return state, result.model_dump(mode="json")

    def _set_aside(self, partner: str, fmt: str, path: Path, reason: str) -> Outcome:
        """An entry that is not read: moved to failed/ with the reason, and the refusal audited."""
        trace = new_trace_id()
        self._gateway.submissions.audit(refusal(partner, PUBLISH, f"file-drop:{fmt}", reason, trace))
        report = {"error": reason, "file": path.name, "trace_id": trace,
                  "processed_at": datetime.now(UTC).isoformat()}  # fmt: skip
        return self._move(path, "failed", report)

    def _move(self, path: Path, state: FileState, report: dict[str, Any]) -> Outcome:
        target = _free_name(path.parent.parent / (DONE if state == "done" else FAILED), path.name)
        target.with_name(target.name + ".report.json").write_bytes(
            orjson.dumps(report, option=orjson.OPT_INDENT_2)
        )
        path.replace(target)  # a link is moved as the link itself, never through it
        return Outcome(target, state, report)

    def _settled(self, path: Path) -> bool:
        """Ready to take: a plain file unchanged for `settle_s`; anything else (a link, a pipe) at once,
        to be set aside unread."""
        if path.name.startswith(".") or path.name.endswith(IGNORED_SUFFIXES):
            return False
        try:
            entry = path.lstat()
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(entry.st_mode):
            return True
        return self._clock() - entry.st_mtime >= self._settle_s


def _free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `name.1`, `name.2`... when a file of that name was dropped before."""
    folder.mkdir(parents=True, exist_ok=True)
    candidate, n = folder / name, 0
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = folder / f"{name}.{n}"
    return candidate
