"""File drop: one inbox per partner and format, each file processed once, then moved with a report.

Layout: `DIR/<partner code>/<format>/incoming/`; results go to `done/` (every record accepted) or
`failed/` (anything rejected or refused, or the file could not be taken), each file with a
`<name>.report.json` beside it.

Partial writes: a file is taken only once its modification time is `settle_s` old, and names
ending `.part` or `.tmp` or starting with `.` are ignored, so a partner may also write `x.part`
and rename it into place. Restarts: a ledger (file digest -> state) in the gateway database says
what was finished; a file found `processing` after a crash is run again, and because event ids
are deterministic and the idempotency store is checked, nothing is published twice.

Commit order per file: 1. ledger `processing`; 2. submit (outbox + statuses in one gateway
transaction); 3. ledger `done`/`failed` with the report; 4. report file written; 5. file moved. A
crash before 3 re-runs the file (nothing new is published); after 3, the move is simply finished.
"""

from __future__ import annotations

import hashlib
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
from services.gateway.database import Database
from services.gateway.schema import MIGRATIONS
from services.gateway.service import Gateway
from services.gateway.submission import RefusedError

log = structlog.get_logger(__name__)
FileState = Literal["processing", "done", "failed"]
INCOMING, DONE, FAILED = "incoming", "done", "failed"
IGNORED_SUFFIXES = (".part", ".tmp")


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

    def mark(self, file: DroppedFile, state: FileState, report: dict[str, Any] | None = None) -> None:
        self._db.execute(
            "INSERT INTO drop_files (partner, format, digest, name, state, report, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (partner, format, digest) DO UPDATE SET "
            "name = excluded.name, state = excluded.state, report = excluded.report, at = excluded.at",
            (
                file.partner, file.fmt, file.digest, file.name, state,
                None if report is None else orjson.dumps(report).decode(), datetime.now(UTC).isoformat(),
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
        """(partner, format, incoming folder) for every inbox present."""
        return [
            (incoming.parent.parent.name, incoming.parent.name, incoming)
            for incoming in sorted(self.root.glob(f"*/*/{INCOMING}"))
            if incoming.is_dir()
        ]

    def scan(self) -> list[Outcome]:
        """One pass over every inbox; returns what was processed."""
        outcomes = []
        for partner, fmt, incoming in self.inboxes():
            for path in sorted(incoming.iterdir()):
                if self._settled(path):
                    outcomes.append(self.process(partner, fmt, path))
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

    def process(self, partner: str, fmt: str, path: Path) -> Outcome:
        """Run one file (or finish it after a restart) and move it with its report."""
        data = path.read_bytes()
        file = DroppedFile(partner, fmt, hashlib.sha256(data).hexdigest(), path.name)
        finished = self._ledger.finished(file)
        if finished is None:
            self._ledger.mark(file, "processing")
            state, report = self._submit(partner, fmt, path.name, data)
            report |= {
                "file": path.name,
                "sha256": file.digest,
                "processed_at": datetime.now(UTC).isoformat(),
            }
            self._ledger.mark(file, state, report)
        else:
            state, report = finished
        target = _free_name(path.parent.parent / (DONE if state == "done" else FAILED), path.name)
        target.with_name(target.name + ".report.json").write_bytes(
            orjson.dumps(report, option=orjson.OPT_INDENT_2)
        )
        path.replace(target)
        log.info("filedrop.processed", partner=partner, format=fmt, file_sha256=file.digest[:16], state=state)
        return Outcome(target, state, report)

    def _submit(
        self, partner_code: str, fmt: str, name: str, data: bytes
    ) -> tuple[FileState, dict[str, Any]]:
        partner = self._gateway.partners.find(partner_code)
        if partner is None or not partner.active:
            return "failed", {
                "error": f"'{partner_code}' is not an active partner: ask the hub team to register it"
            }
        ctx = SourceContext(partner=partner.code, source_name=f"{fmt}/{name}")
        try:
            result = self._gateway.submissions.submit(partner, fmt, data, ctx, publish=True)
        except (RefusedError, UnknownFormatError) as error:
            return "failed", {"error": str(error), "trace_id": ctx.trace_id}
        state: FileState = "done" if result.items and result.accepted == len(result.items) else "failed"
        return state, result.model_dump(mode="json")

    def _settled(self, path: Path) -> bool:
        if path.name.startswith(".") or path.name.endswith(IGNORED_SUFFIXES) or not path.is_file():
            return False
        return self._clock() - path.stat().st_mtime >= self._settle_s


def _free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `name.1`, `name.2`... when a file of that name was dropped before."""
    folder.mkdir(parents=True, exist_ok=True)
    candidate, n = folder / name, 0
    while candidate.exists():
        n += 1
        candidate = folder / f"{name}.{n}"
    return candidate
