"""`hubnet county load`: put everything of a checked pack in the stores, and say what changed.

One load stores the pack as the next version of the county store (what workers read) and its
reference files in the reference store (the names pages show), so a county never has one without
the other. The order: the reference files are read and validated whole first (nothing is stored if
one fails), then each kind's names are replaced (one transaction per kind), then the version is
added; workers switch to a version only once it is there, and by then its names are too.

The load is audited on `fh.audit` (`county.load`): who ran it, the pack's id and label, the version
it became, the digest of the pack's files and the counts before and after, so the trail says which
folder, exactly, the county's services now run on. A refused load is audited too (`denied`, with
how many problems). The digest is also printed by `hubnet county check`, so a county can approve a
checked folder by its digest and find the same digest in the audit trail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from schemas.audit import AuditRecord
from schemas.county import CountyPack
from services.county.pack import MANIFEST, TABLES
from services.county.problems import PackError
from services.county.reference import ReferenceChange, load_reference, read_reference
from services.county.store import CountyStore
from services.reference.store import ReferenceStore

ACTION = "county.load"
ACTOR_ROLE = "operations"


@dataclass(frozen=True)
class LoadReport:
    """What one load did: the version it became and every count before and after."""

    version: int
    digest: str
    counts: dict[str, tuple[int, int]]
    reference: list[ReferenceChange]

    def changes(self) -> str:
        """`districts 3 (was 0), ..., names etr 2 (was 0)`: for the audit record and the terminal."""
        parts = [f"{name} {after} (was {before})" for name, (before, after) in self.counts.items()]
        parts += [f"names {c.kind} {c.after} (was {c.before})" for c in self.reference]
        return ", ".join(parts)


def pack_digest(folder: Path, pack: CountyPack) -> str:
    """SHA-256 over every file the pack is made of (name and bytes, in a fixed order)."""
    manifest = pack.manifest
    names = [MANIFEST, *TABLES, *sorted(manifest.reference.values())]
    names += [manifest.services_from] if manifest.services_from else []
    digest = hashlib.sha256()
    for name in names:
        path = folder / name
        if path.is_file():
            data = path.read_bytes()
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def counts(pack: CountyPack | None) -> dict[str, int]:
    """What a pack holds, table by table (all 0 before any pack was loaded); services are those of
    services.csv and of the directory `services_from` names."""
    if pack is None:
        return dict.fromkeys(
            ("districts", "hub areas", "postcodes", "sites", "services", "teams", "sign-in rules"), 0
        )
    return {
        "districts": len(pack.districts),
        "hub areas": len({rule.hub_area for rule in pack.hub_areas}),
        "postcodes": len(pack.postcodes),
        "sites": len(pack.sites),
        "services": len(pack.services) + len(pack.directory.services if pack.directory else ()),
        "teams": len(pack.teams),
        "sign-in rules": len(pack.manifest.sign_in.rule),
    }


def load_pack(
    folder: Path, pack: CountyPack, by: str, county: CountyStore, names: ReferenceStore
) -> LoadReport:
    """Store a checked pack whole: reference names, then the next version (see the module doc)."""
    rows, problems = read_reference(folder, pack.manifest.reference)
    if problems:  # changed since it was checked: still nothing is stored
        raise PackError(problems)
    previous = county.get()
    before = counts(previous.pack if previous else None)
    changed = load_reference(names, rows)
    version = county.add(pack, loaded_by=by)
    after = counts(pack)
    return LoadReport(version, pack_digest(folder, pack), {k: (before[k], after[k]) for k in after}, changed)


def loaded_record(pack: CountyPack, report: LoadReport, by: str) -> AuditRecord:
    """The audit record of a load: ids, labels, a digest and counts; no personal data."""
    manifest = pack.manifest
    return AuditRecord(
        actor=by, actor_role=ACTOR_ROLE, action=ACTION, target=f"county-pack:{manifest.id}@{report.version}",
        outcome="allowed",
        reason=f"version {manifest.version!r}, sha256 {report.digest}: {report.changes()}",
    )  # fmt: skip


def refused_record(folder: Path, problems: int, by: str) -> AuditRecord:
    """The audit record of a load refused for its problems (nothing was stored)."""
    return AuditRecord(
        actor=by, actor_role=ACTOR_ROLE, action=ACTION, target=f"county-pack:{folder.name}",
        outcome="denied", reason=f"{problems} problem(s) found by the check; nothing was loaded",
    )  # fmt: skip
