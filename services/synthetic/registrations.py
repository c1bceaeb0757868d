"""The partners of a generated county, as registrations: what `hubnet replay` sends as.

A county's manifest names each sending organisation by its id; a replay goes through the gateway's
one ingest step as that partner, so each must be registered. `county_partners` derives, from the
county alone, one registration per organisation: its code (`replay.partner_code`), its id, the
formats it sends, and the sender ids its own files name (a school's CTF names its URN and its DfE
number). Only `hubnet replay` registers them, and only the ones missing, saying so.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from services.gateway.claims import UnverifiableSenderError, claimed_senders
from services.gateway.partners import Partner
from services.synthetic.replay import partner_code


def county_partners(root: Path) -> list[Partner]:
    """One registration per sending organisation of the county at `root`, named as its
    partners.json names it (staff pick partners by name, on the consent form)."""
    manifest = orjson.loads((root / "manifest.json").read_bytes())
    listed = root / "partners.json"
    names = {p["code"]: p["name"] for p in orjson.loads(listed.read_bytes())} if listed.is_file() else {}
    formats: dict[str, set[str]] = {}
    senders: dict[str, set[str]] = {}
    for entry in manifest["files"]:
        org = entry["partner"]
        formats.setdefault(org, set()).add(entry["format"])
        senders.setdefault(org, set()).update(_named(entry["format"], root / entry["path"]))
    return [
        Partner(
            code=partner_code(org),
            name=names.get(org, f"synthetic county partner {org}"),
            org_ids=(org,),
            sender_ids=tuple(sorted(senders[org] - {org})),
            formats=tuple(sorted(formats[org])),
        )
        for org in sorted(formats)
    ]


def sample_partners(folder: Path, formats: set[str]) -> list[Partner]:
    """One registration per `samples/<format>/` folder of a known format, as `sample-<format>`
    (what the `make run` demo sends the shipped samples as), with the sender ids they name."""
    partners = []
    for fmt_dir in sorted(p for p in folder.iterdir() if p.is_dir() and p.name in formats):
        senders: set[str] = set()
        for path in sorted(p for p in fmt_dir.iterdir() if p.is_file() and p.suffix != ".md"):
            senders.update(_named(fmt_dir.name, path))
        partners.append(Partner(
            code=f"sample-{fmt_dir.name}", name=f"sample partner for {fmt_dir.name}",
            sender_ids=tuple(sorted(senders)), formats=(fmt_dir.name,),
        ))  # fmt: skip
    return partners


def _named(fmt: str, path: Path) -> set[str]:
    """The senders a file names; none for one whose sender cannot be checked (it is refused when
    sent, as it should be)."""
    try:
        return claimed_senders(fmt, path.read_bytes())
    except UnverifiableSenderError:
        return set()
