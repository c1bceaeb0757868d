"""File drop: settled files only, done/failed with a report, and a crash mid-file publishes nothing twice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from schemas.topics import DLQ, EVENTS
from services.gateway.filedrop import DroppedFile, FileDrop, FileLedger, FileState
from services.gateway.service import Gateway
from tests.databases import Backend
from tests.unit.gateway.support import FORMAT, ListPublisher, add_partner, line, open_gateway


@pytest.fixture
def publisher() -> ListPublisher:
    return ListPublisher()


@pytest.fixture
def gateway(backend: Backend, publisher: ListPublisher) -> Iterator[Gateway]:
    """On SQLite and on PostgreSQL: the file ledger runs the same SQL on both."""
    gateway = open_gateway(backend.settings(data_dir=backend.tmp_path / "data"), publisher)
    add_partner(gateway, formats=(FORMAT,))
    yield gateway
    gateway.close()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "drop" / "nelft-hv" / FORMAT / "incoming"
    folder.mkdir(parents=True)
    return folder


def drop(inbox: Path, name: str, body: str, age_s: float = 60) -> Path:
    path = inbox / name
    path.write_text(body)
    past = path.stat().st_mtime - age_s
    os.utime(path, (past, past))
    return path


def report(path: Path) -> dict[str, object]:
    result: dict[str, object] = orjson.loads(path.with_name(path.name + ".report.json").read_bytes())
    return result


def test_good_file_goes_to_done_and_bad_to_failed_with_reports(
    inbox: Path, gateway: Gateway, publisher: ListPublisher
) -> None:
    drop(inbox, "a.txt", f"{line('r1')}\n{line('r2', 2)}\n")
    drop(inbox, "b.txt", f"{line('r3')}\nr4,1,9990000000,encounter\n")
    outcomes = FileDrop(inbox.parents[2], gateway).scan()
    assert [(o.path.parent.name, o.path.name, o.state) for o in outcomes] == [
        ("done", "a.txt", "done"),
        ("failed", "b.txt", "failed"),
    ]
    assert list(inbox.iterdir()) == []
    assert report(outcomes[0].path)["accepted"] == 2
    failed = report(outcomes[1].path)
    assert (failed["accepted"], failed["rejected"]) == (1, 1)
    assert len(publisher.on(EVENTS)) == 3
    assert len(publisher.on(DLQ)) == 1


def test_unsettled_and_partial_files_wait(inbox: Path, gateway: Gateway, publisher: ListPublisher) -> None:
    drop(inbox, "fresh.txt", line("r1"), age_s=0)
    drop(inbox, "upload.txt.part", line("r2"))
    drop(inbox, ".hidden", line("r3"))
    assert FileDrop(inbox.parents[2], gateway, settle_s=30).scan() == []
    assert publisher.messages == []
    assert len(list(inbox.iterdir())) == 3


def test_unknown_partner_folder_fails_the_file_without_publishing(
    tmp_path: Path, gateway: Gateway, publisher: ListPublisher
) -> None:
    inbox = tmp_path / "drop" / "nobody" / FORMAT / "incoming"
    inbox.mkdir(parents=True)
    drop(inbox, "a.txt", line("r1"))
    (outcome,) = FileDrop(inbox.parents[2], gateway).scan()
    assert outcome.state == "failed"
    assert "not an active partner" in str(report(outcome.path)["error"])
    assert publisher.messages == []


def test_crash_after_publishing_reruns_the_file_and_publishes_nothing_twice(
    inbox: Path, gateway: Gateway, publisher: ListPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = drop(inbox, "a.txt", f"{line('r1')}\n{line('r2', 2)}\n")
    crashing = FileDrop(inbox.parents[2], gateway)
    original = FileLedger.mark

    def killed_before_done(
        self: FileLedger, file: DroppedFile, state: FileState, report: object = None
    ) -> None:
        if state != "processing":  # the process dies after the outbox commit, before the ledger says done
            raise KeyboardInterrupt
        original(self, file, state)

    monkeypatch.setattr(FileLedger, "mark", killed_before_done)
    with pytest.raises(KeyboardInterrupt):
        crashing.scan()
    assert path.exists()
    published = len(publisher.on(EVENTS))
    assert published == 2
    monkeypatch.undo()

    (outcome,) = FileDrop(inbox.parents[2], gateway).scan()  # the restarted watcher
    assert outcome.state == "done"
    assert len(publisher.on(EVENTS)) == published
    assert report(outcome.path)["duplicates"] == 2


def test_same_file_dropped_again_reuses_the_ledger_result(
    inbox: Path, gateway: Gateway, publisher: ListPublisher
) -> None:
    drop(inbox, "a.txt", line("r1"))
    FileDrop(inbox.parents[2], gateway).scan()
    drop(inbox, "a.txt", line("r1"))
    (outcome,) = FileDrop(inbox.parents[2], gateway).scan()
    assert outcome.path.name == "a.txt.1"
    assert len(publisher.on(EVENTS)) == 1
