"""`hubnet config show` as the real console script: a bad setting is one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HUBNET = Path(sys.executable).with_name("hubnet")


def test_a_bad_oidc_setting_is_one_clear_line_from_the_console_script() -> None:
    env = {
        **os.environ, "HUBNET_OIDC_ISSUER": "login.example/v2.0", "HUBNET_OIDC_CLIENT_ID": "hubnet",
        "HUBNET_OIDC_REDIRECT_URL": "https://hub.example/sign-in/oidc/callback",
        "HUBNET_OIDC_CLAIM_MAP": "county.toml",
    }  # fmt: skip
    done = subprocess.run(
        [str(HUBNET), "config", "show"], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert done.returncode == 2
    assert "HUBNET_OIDC_ISSUER 'login.example/v2.0' is not an issuer URL" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stdout + done.stderr
