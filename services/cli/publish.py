"""`hubnet publish`: send files to the partner API the way a partner's system would, with a summary.

The key is read from a file (`--key-file`), so it never lands in shell history or a process list.
A 429 is waited out (Retry-After) and the file resent; resending is always safe, because the API
returns the first result of anything it has seen before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from services.cli.runtime import fail, friendly_errors, start

out = Console()
MAX_RETRIES = 5


@dataclass
class FileResult:
    path: Path
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status in (200, 202) and not self.body.get("rejected") and not self.body.get("refused")

    def counts(self) -> list[str]:
        result = self.body.get("result", self.body)  # a 422 problem carries the result inside
        return [str(result.get(k, "-")) for k in ("accepted", "duplicates", "rejected", "refused")]


@friendly_errors
def publish(
    files: Annotated[
        list[Path], typer.Argument(help="Files to send, one request each.", exists=True, dir_okay=False)
    ],
    partner: Annotated[str, typer.Option(help="Your partner code; checked against the key's owner.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Format of the files, e.g. fhir, hl7v2, vcs-csv.")
    ],
    key_file: Annotated[Path, typer.Option(help="File holding your API key.", exists=True, dir_okay=False)],
    url: Annotated[str, typer.Option(help="Base URL of the hubnet ingestion API.")] = "http://127.0.0.1:8080",
    validate: Annotated[
        bool, typer.Option("--validate", help="Check only (the sandbox); nothing is published.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each response.")] = 60.0,
) -> None:
    """Send each file to the API with a progress bar and a summary table; exit 1 unless all was accepted."""
    start()
    key = key_file.read_text().strip()
    path = f"/v1/{'validate' if validate else 'events'}/{fmt}"
    results: list[FileResult] = []
    try:
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=timeout) as client:
            _check_partner(client, partner)
            with Progress(console=out, transient=True) as progress:
                task = progress.add_task("validating" if validate else "publishing", total=len(files))
                for file in files:
                    results.append(_send(client, path, file))
                    progress.advance(task)
    except httpx.HTTPError as error:
        fail(f"cannot reach the hubnet API at {url}: {type(error).__name__}")
    _summary(results)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def _check_partner(client: httpx.Client, partner: str) -> None:
    response = client.get("/v1/partners/me")
    if response.status_code == 401:
        fail("the API key was not accepted (unknown, expired or revoked): ask the hub team for a new one")
    response.raise_for_status()
    owner = response.json()["code"]
    if owner != partner:
        fail(f"the key belongs to partner '{owner}', not '{partner}'")


def _send(client: httpx.Client, path: str, file: Path) -> FileResult:
    data = file.read_bytes()
    for _ in range(MAX_RETRIES):
        response = client.post(path, content=data, headers={"X-Source-Name": file.name})
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:200]}
    return FileResult(file, response.status_code, body)


def _summary(results: list[FileResult]) -> None:
    table = Table("HTTP", "accepted", "dup.", "rejected", "refused", "detail")
    table.columns[-1].overflow = "fold"
    table.add_column("file", no_wrap=True)
    for r in results:
        colour = "green" if r.ok else "red"
        detail = r.body.get("detail") or r.body.get("trace_id", "")
        table.add_row(f"[{colour}]{r.status}[/]", *r.counts(), str(detail), r.path.name)
    out.print(table)
