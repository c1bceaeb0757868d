"""A real OpenID provider for the sign-in tests: the certified `oidc-provider` for Node.js
(tests/oidc/provider.mjs, versions pinned by its package-lock.json), on a free loopback port.

Its packages are installed once with `npm ci` into a cache folder named after the lockfile's
digest (HUBNET_TEST_CACHE, else ~/.cache/hubnet), so a changed lockfile gets a fresh install; the
provider runs from there and is stopped by its pid."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.core.broker import free_port

SOURCE = Path(__file__).resolve().parents[1] / "oidc"
FILES = ("package.json", "package-lock.json", "provider.mjs")


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str


def installed() -> Path:
    """The folder holding the provider script and its node_modules (installed on first use)."""
    lock = (SOURCE / "package-lock.json").read_bytes()
    base = Path(os.environ.get("HUBNET_TEST_CACHE") or Path.home() / ".cache" / "hubnet")
    folder = base / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (folder / "node_modules" / "oidc-provider").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        for name in FILES[:2]:
            shutil.copy(SOURCE / name, folder / name)
        npm = shutil.which("npm")
        assert npm, "the OIDC tests need Node.js 20 and npm (.ci/run installs them)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, check=True, timeout=600)
    shutil.copy(SOURCE / FILES[2], folder / FILES[2])
    return folder


@contextmanager
def openid_provider(
    redirect_uri: str, logout_uri: str, accounts: Mapping[str, Mapping[str, Any]]
) -> Iterator[Provider]:
    """The provider's issuer while it runs, with one confidential client for hubnet."""
    folder = installed()
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", "hubnet-staff", "test-client-secret-not-a-real-one")
    env = {
        **os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret, "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_LOGOUT_URI": logout_uri, "OIDC_ACCOUNTS": json.dumps(accounts), "NODE_ENV": "test",
    }  # fmt: skip
    node = shutil.which("node")
    assert node, "the OIDC tests need Node.js 20 (.ci/run installs it)"
    process = subprocess.Popen(
        [node, "provider.mjs"], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_ready(provider.issuer, process)
        yield provider
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(10)


def _wait_ready(issuer: str, process: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the OpenID provider exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the OpenID provider did not start on {issuer}")
