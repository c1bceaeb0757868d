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

from services.gateway.claims import claimed_senders
from services.gateway.partners import Partner
from services.synthetic.replay import partner_code


def county_partners(root: Path) -> list[Partner]:
    """One registration per sending organisation of the county at `root`."""
    manifest = orjson.loads((root / "manifest.json").read_bytes())
    formats: dict[str, set[str]] = {}
    senders: dict[str, set[str]] = {}
    for entry in manifest["files"]:
        org = entry["partner"]
        formats.setdefault(org, set()).add(entry["format"])
        senders.setdefault(org, set()).update(
            claimed_senders(entry["format"], (root / entry["path"]).read_bytes())
        )
    return [
        Partner(
            code=partner_code(org),
            name=f"synthetic county partner {org}",
            org_ids=(org,),
            sender_ids=tuple(sorted(senders[org] - {org})),
            formats=tuple(sorted(formats[org])),
        )
        for org in sorted(formats)
    ]
