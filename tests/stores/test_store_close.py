"""Closing a SQLite store closes its one connection, so SQLite checkpoints the write-ahead log into
the main file and removes the `-wal`: a copy of a stopped hubnet's data dir (`cp`, docs/operations.md)
holds every row, and a long-running process that opens and closes stores leaks no file handle.

A store has one connection however many threads use it (the API serves from a thread pool), so the
test writes from several threads and checks that no second connection was left behind. A service
never closes its stores itself: the process closes them as it exits (services/stores/connect.py)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from services.streams.sqlstore import SqlStore
from tests.e2e.demo_county import COUNTIES, load
from tests.sqlite_files import opened

THREADS, ROWS = 4, 50
REPO = Path(__file__).resolve().parents[2]


class NoteStore(SqlStore):
    """The smallest store: one table, one write unit."""

    STORE = "notes"
    SCHEMA = "CREATE TABLE note (note_id TEXT PRIMARY KEY, body TEXT NOT NULL)"

    def add(self, note_id: str, body: str) -> None:
        with self.write_transaction():
            self._run(self.upsert("note", ("note_id", "body"), ("note_id",)), (note_id, body))


def notes_in_copy(main: Path, folder: Path) -> int | None:
    """The notes a copy of the main file alone holds (None: not even the table), as a `cp` backup
    that left the `-wal` behind would."""
    rows = _rows_in_copy(main, folder, "SELECT note_id FROM note")
    return None if rows is None else len(rows)


def _rows_in_copy(main: Path, folder: Path, query: str) -> list[tuple[object, ...]] | None:
    folder.mkdir()
    copy = folder / main.name
    shutil.copyfile(main, copy)
    with opened(copy) as db:
        try:
            return list(db.execute(query))
        except sqlite3.OperationalError:  # no such table: it was only in the log
            return None


def _handles_on(path: Path) -> list[str]:
    """This process's open file descriptors on the store's files (main, -wal, -shm)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = fd.readlink()
        except OSError:  # closed since listed (the listing's own descriptor)
            continue
        if str(target).startswith(str(path)):
            found.append(str(target))
    return found


def _write_from_threads(store: NoteStore) -> None:
    lock = threading.Lock()  # units take turns, as the API's handlers do on one store

    def write(thread: int) -> None:
        for n in range(ROWS):
            with lock:
                store.add(f"{thread}-{n}", "a note")

    threads = [threading.Thread(target=write, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_closing_a_store_checkpoints_its_log_so_the_main_file_alone_holds_every_row(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    wal = tmp_path / "notes.sqlite-wal"
    store = NoteStore.open(path)
    _write_from_threads(store)
    assert wal.stat().st_size > 0, "while the store is open its rows are in the write-ahead log"
    assert notes_in_copy(path, tmp_path / "while-open") is None, "and not yet in the main file"

    store.close()

    assert not wal.exists(), "close() left the write-ahead log behind: some connection is still open"
    assert not (tmp_path / "notes.sqlite-shm").exists()
    assert _handles_on(path) == []
    assert notes_in_copy(path, tmp_path / "after-close") == THREADS * ROWS


def test_a_process_that_ends_without_closing_its_store_leaves_every_row_in_the_main_file(
    tmp_path: Path,
) -> None:
    """Workers and the API hold their stores until they are stopped and never close them: the
    process closes them as it exits (services/stores/connect.py), or a stopped hubnet's data dir
    keeps its rows in `-wal` files."""
    path = tmp_path / "notes.sqlite"
    script = (
        "import sys, threading\n"
        "from tests.stores.test_store_close import NoteStore\n"
        "store = NoteStore.open(sys.argv[1])\n"
        f"for n in range({ROWS}):\n"
        "    store.add(str(n), 'a note')\n"
        "serving = threading.Event()\n"
        "def serve(held):  # a server thread still holding the store at exit (uvicorn, faust)\n"
        "    serving.set()\n"
        "    threading.Event().wait()\n"
        "threading.Thread(target=serve, args=(store,), daemon=True).start()\n"
        "serving.wait()\n"
        "del store\n"
        "print('written, not closed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "written, not closed" in done.stdout

    assert not (tmp_path / "notes.sqlite-wal").exists(), "the process ended with its store's log still there"
    assert notes_in_copy(path, tmp_path / "after-exit") == ROWS


def test_a_connection_left_open_keeps_the_rows_in_the_log_past_the_stores_close(tmp_path: Path) -> None:
    """Why the e2e helper once handed out copies without families: a bare `with sqlite3.connect()`
    left open beside the store (tests/sqlite_files.py). Pins that this test file can tell."""
    path = tmp_path / "notes.sqlite"
    store = NoteStore.open(path)
    store.add("only", "a note")
    stray = sqlite3.connect(path)
    stray.execute("SELECT count(*) FROM note").fetchone()
    store.close()
    try:
        assert (tmp_path / "notes.sqlite-wal").exists()
        assert notes_in_copy(path, tmp_path / "stray-open") is None
    finally:
        stray.close()
    assert not (tmp_path / "notes.sqlite-wal").exists()
    assert notes_in_copy(path, tmp_path / "stray-closed") == 1


def test_closing_the_loaded_demo_county_leaves_each_store_whole_in_its_main_file(tmp_path: Path) -> None:
    """The observation that started this: a copy of the demo county's timeline taken after
    `DemoCounty.close()` refused every family as absent (tests/e2e/demo_county.py)."""
    (london,) = (county for county in COUNTIES if county.name == "london")  # the smallest pack
    county = load(tmp_path / "loaded", london)
    county.close()

    folder = tmp_path / "loaded"
    assert sorted(p.name for p in folder.glob("*.sqlite-*")) == [], "a store's log outlived close()"
    families = _rows_in_copy(folder / "timeline.sqlite", tmp_path / "copy", "SELECT family_id FROM family")
    assert families is not None
    assert sorted(f for (f,) in families) == sorted(county.families)
    assert county.families
