"""Where the session-signing key comes from: the settings (HUBNET_SESSION_SECRET), a key per run on
the embedded demo, and a refusal to start in production without one (issue #18, finding 8)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.errors import ConfigurationError
from services.cli.up import run_session_secret
from services.core.settings import Settings, load_settings
from services.web.sessions import session_secret

KEY = "0123456789abcdef0123456789abcdef"
REPO = Path(__file__).resolve().parents[3]


def test_the_configured_secret_signs_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBNET_SESSION_SECRET", KEY)
    settings = load_settings()
    assert session_secret(settings) == KEY.encode()
    assert KEY not in repr(settings)
    assert run_session_secret(settings) == KEY


def test_the_embedded_demo_makes_a_key_for_the_run(tmp_path: Path) -> None:
    demo = Settings(data_dir=tmp_path)
    first, second = session_secret(demo), session_secret(demo)
    assert len(first) == 32
    assert first != second
    assert len(run_session_secret(demo)) == 64
    assert not list(tmp_path.iterdir()), "no key file in the data dir"


@pytest.mark.parametrize(
    "production",
    [{"KAFKA_BOOTSTRAP_SERVERS": "k1:9092"}, {"database_url": "postgresql://hubnet@db/hubnet"}],
)
def test_production_refuses_without_a_secret(production: dict[str, str]) -> None:
    settings = Settings(**production)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="HUBNET_SESSION_SECRET is not set"):
        session_secret(settings)
    with pytest.raises(ConfigurationError, match="HUBNET_SESSION_SECRET"):
        run_session_secret(settings)


def test_a_short_secret_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBNET_SESSION_SECRET", "too-short")
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        load_settings()


def test_a_trusted_proxy_that_is_no_address_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBNET_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    with pytest.raises(ConfigurationError, match=re.escape("HUBNET_TRUSTED_PROXIES: 'proxy.internal'")):
        load_settings()
    monkeypatch.setenv("HUBNET_TRUSTED_PROXIES", "10.0.0.0/8, 2001:db8::1")
    assert [str(n) for n in load_settings().trusted_proxy_networks()] == ["10.0.0.0/8", "2001:db8::1/128"]


def test_serve_api_in_production_without_a_secret_stops_with_a_clear_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HUBNET_SESSION_SECRET"}
    env |= {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "HUBNET_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "serve", "api", "--port", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "HUBNET_SESSION_SECRET is not set" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_serve_api_trusting_identity_headers_needs_the_proxies_named(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBNET_", "KAFKA_"))}
    env |= {"HUBNET_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "serve", "api", "--port", "1", "--trust-proxy"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "needs HUBNET_TRUSTED_PROXIES" in " ".join(done.stderr.split())
