"""A throwaway PostgreSQL server the test session starts itself: its own cluster on a free loopback
port, TLS on with a certificate made for the run, trust authentication, no fsync, removed at the end.

The store tests must not depend on how a machine's own PostgreSQL happens to be configured (a
server without TLS failed the TLS test before), nor reconfigure it. Only the server binaries are
needed (Debian's `postgresql` package; `.ci/run` installs it). initdb refuses to run as root, so as
root the cluster belongs to the `postgres` user the package creates (the server runs as that user
directly, so its process id is the one to stop).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from services.core.broker import free_port


class NoServerError(RuntimeError):
    """No server could be started here; the message says why and what to install."""


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL bin folder (Debian keeps them off PATH), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner(owner: str | None) -> dict[str, object]:
    """Popen arguments that run a command as `owner` (root only), so its pid is the server's own."""
    return {"user": owner, "group": owner, "extra_groups": []} if owner else {}


def _run(command: list[str], owner: str | None, cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, **_as_owner(owner))  # type: ignore[call-overload]
    if done.returncode != 0:
        raise NoServerError(f"{Path(command[0]).name} failed: {(done.stderr or done.stdout).strip()}")


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "server.crt", folder / "server.key"
    openssl = shutil.which("openssl")
    if openssl is None:
        raise NoServerError("openssl is not installed (needed for the test server's TLS certificate)")
    subprocess.run(
        [openssl, "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


def _wait_ready(bindir: Path, port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise NoServerError(f"postgres exited at start: {log.read_text(errors='replace')[-2000:]}")
        ready = subprocess.run(
            [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise NoServerError(f"postgres did not answer within 60 s: {log.read_text(errors='replace')[-2000:]}")


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """Start a cluster and yield the URL of its `postgres` database for user postgres."""
    bindir = server_binaries()
    if bindir is None:
        raise NoServerError("no PostgreSQL server binaries (initdb) on this machine: install postgresql")
    owner = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="hubnet-test-pg-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        cert, key = _certificate(folder)
        if owner is not None:
            account = pwd.getpwnam(owner)
            for path in (folder, cert, key):
                os.chown(path, account.pw_uid, account.pw_gid)
        data = folder / "data"
        _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync",
              "-E", "UTF8"], owner, folder)  # fmt: skip
        port = free_port()
        log = folder / "server.log"
        options = {
            "listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": str(folder),
            "ssl": "on", "ssl_cert_file": str(cert), "ssl_key_file": str(key),
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "200",
        }  # fmt: skip
        command = [str(bindir / "postgres"), "-D", str(data)]
        for name, value in options.items():
            command += ["-c", f"{name}={value}"]
        with log.open("wb") as out:
            server = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, cwd=folder, **_as_owner(owner)
            )  # type: ignore[call-overload]
        _wait_ready(bindir, port, server, log)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # fast shutdown: ends sessions, no checkpoint wait
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)
