"""`hubnet county load` as the real console script on the real embedded broker: the pack's tables
become the next version, its reference files the names pages show, and every load, refused or
done, is an audit record on fh.audit naming who, which pack, its digest and what changed."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.audit import AuditRecord
from schemas.topics import AUDIT, catalogue
from services.core import kafka_clients, topics
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.county.store import CountyStore
from services.reference.store import ReferenceStore
from tests.unit.county.packs import PACKS_DIR, copy_pack

pytestmark = pytest.mark.integration
HUBNET = Path(sys.executable).with_name("hubnet")


def _audits(settings: Settings, bootstrap: str, actor: str) -> list[AuditRecord]:
    records = (AuditRecord.from_bytes(r.value) for r in read_to_end(settings, bootstrap, AUDIT))
    return [record for record in records if record.actor == actor]


def test_load_stores_the_pack_and_its_names_and_audits_each_load(
    settings: Settings, bootstrap: str, unique: str, tmp_path: Path
) -> None:
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    env = {**os.environ, "HUBNET_DATA_DIR": str(settings.data_dir), "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=90, check=False, env=env)
    who = f"county-admin-{unique}"

    done = run([str(HUBNET), "county", "load", str(PACKS_DIR / "london"), "--by", who])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loaded as county pack version 1" in done.stdout
    bad = copy_pack("essex", tmp_path)
    (bad / "sites.csv").write_text("id,name,kind,hub_area,postcode,hours\nx,X,castle,harlow,CM20 1AB,\n")
    refused = run([str(HUBNET), "county", "load", str(bad), "--by", who])
    assert refused.returncode == 2
    assert "sites.csv:2 kind:" in refused.stdout
    done = run([str(HUBNET), "county", "load", str(PACKS_DIR / "essex"), "--by", who])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loaded as county pack version 2" in done.stdout

    county = CountyStore.in_data_dir(settings.data_dir)
    first, second = county.get(1), county.get(2)
    county.close()
    assert first is not None
    assert second is not None
    assert (first.version, first.loaded_by, first.pack.manifest.id) == (1, who, "ealing")
    assert (second.pack.manifest.id, len(second.pack.manifest.sign_in.rule)) == ("essex", 4)
    names = ReferenceStore.from_settings(settings)
    assert names.name_of("RQW") == "THE PRINCESS ALEXANDRA HOSPITAL NHS TRUST"
    names.close()

    london, denied, essex = _audits(settings, bootstrap, who)
    assert (london.action, london.outcome, london.target) == (
        "county.load",
        "allowed",
        "county-pack:ealing@1",
    )
    assert (denied.outcome, denied.reason) == (
        "denied",
        "1 problem(s) found by the check; nothing was loaded",
    )
    assert (essex.target, essex.actor_role) == ("county-pack:essex@2", "operations")
    assert essex.reason is not None
    digest = done.stdout.split("sha256 ")[1].split()[0].rstrip(";")
    assert f"sha256 {digest}:" in essex.reason
    assert "districts 3 (was 1)" in essex.reason  # Ealing's one district, then Essex's three
    assert "sign-in rules 4 (was 0)" in essex.reason
    assert "names etr 2 (was 0)" in essex.reason
