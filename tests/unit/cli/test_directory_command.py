"""`hubnet directory import --dry-run` as a directory publisher runs it: a real process, output piped.

Warnings (a malformed e-mail) keep the service and exit 0; the API details document is refused
(exit 1) with its place named once. Rules: see tests/unit/connectors/test_oruk_formats.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.public_data import public_sample

REPO = Path(__file__).resolve().parents[3]


def directory_import(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "directory", "import", "--dry-run", *map(str, files)],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "40", "HUBNET_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_malformed_email_is_a_warning_on_one_line_and_the_import_succeeds(tmp_path: Path) -> None:
    service = {"id": "svc-1", "name": "Stay and play", "status": "active", "email": "play.example.org"}
    path = tmp_path / "service.json"
    path.write_text(json.dumps(service))
    result = directory_import(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "warning service.json $.email: not an e-mail address (name@domain.tld); left out\n" in result.stdout
    )
    assert "service.json: 1 services, 1 resources, 0 rejected" in result.stdout


def test_the_api_details_document_is_refused_with_its_place_named_once() -> None:
    result = directory_import(public_sample("open-referral-uk") / "V3.0-UK-Default" / "api_details.json")
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("rejected ")]
    assert line.startswith("rejected api_details.json: $: this is the API's details document")
    assert line.count("$") == 1
