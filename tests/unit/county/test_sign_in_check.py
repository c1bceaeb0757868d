"""`hubnet county check` on the pack's `[sign_in]` claim map: every problem the sign-in would meet
is found before a load, with county.toml's line and the rule's field."""

from __future__ import annotations

from pathlib import Path

from schemas.county import CountyPack
from services.county.pack import check_pack
from services.county.problems import Problem
from services.web.claim_map import ClaimMap
from tests.unit.county.packs import PACKS_DIR, copy_pack

HEAD = 'id = "essex"\nname = "Essex"\nversion = "1"\n'


def _with_sign_in(tmp_path: Path, sign_in: str) -> Path:
    pack = copy_pack("essex", tmp_path)
    (pack / "county.toml").write_text(HEAD + sign_in, encoding="utf-8")
    return pack


def _problems(pack: Path) -> list[Problem]:
    found = check_pack(pack)
    assert isinstance(found, list), "expected problems, the pack was accepted"
    return found


def test_the_essex_pack_map_is_accepted_and_is_the_map_sign_in_reads() -> None:
    pack = check_pack(PACKS_DIR / "essex")
    assert isinstance(pack, CountyPack)
    assert len(pack.manifest.sign_in.rule) == 4
    signed_in = ClaimMap.load(PACKS_DIR / "essex" / "county.toml").principal(
        {"preferred_username": "amy", "groups": ["9d3a77a1-hub-tendring"]}
    )
    assert (signed_in.role.value, signed_in.areas) == ("hub-practitioner", ("tendring", "jaywick"))


def test_unknown_role_area_and_service_each_point_at_their_line(tmp_path: Path) -> None:
    pack = _with_sign_in(
        tmp_path,
        "\n[[sign_in.rule]]\n"  # line 5
        'claim = "groups"\n'
        'value = "g1"\n'
        'role = "wizard"\n'  # line 8
        'areas = ["tendring", "atlantis"]\n'  # line 9
        'services = ["clacton-parenting@harlow-hub", "clacton-parenting"]\n',  # line 10
    )
    found = {(p.file, p.line, p.field, p.message.split(" ")[0]) for p in _problems(pack)}
    assert found == {
        ("county.toml", 8, "sign_in.rule[1].role", "wizard"),
        ("county.toml", 9, "sign_in.rule[1].areas", "atlantis"),
        ("county.toml", 10, "sign_in.rule[1].services", "clacton-parenting@harlow-hub"),
    }


def test_a_malformed_rule_is_reported_by_field_not_only_the_first(tmp_path: Path) -> None:
    pack = _with_sign_in(
        tmp_path,
        "\n[[sign_in.rule]]\n"  # line 5
        'claim = ""\n'  # line 6
        'value = "g1"\n'
        'role = "hub-manager"\n'
        'areas = "tendring"\n'  # line 9: a string, not a list
        "\n[[sign_in.rule]]\n"  # line 11
        'claim = "groups"\n'
        'area = ["tendring"]\n',  # line 13: a misspelt key claim_map would silently ignore
    )
    found = {(p.line, p.field) for p in _problems(pack)}
    assert found == {
        (6, "sign_in.rule[1].claim"),
        (9, "sign_in.rule[1].areas"),
        (11, "sign_in.rule[2].value"),  # missing: at the rule's own header
        (13, "sign_in.rule[2].area"),
    }


def test_provider_settings_in_the_pack_are_refused_naming_the_setting(tmp_path: Path) -> None:
    pack = _with_sign_in(
        tmp_path, '\n[sign_in]\nissuer = "https://login.example/v2.0"\nclient_secret = "s3cret"\n'
    )
    problems = _problems(pack)
    assert {(p.line, p.field) for p in problems} == {(6, "sign_in.issuer"), (7, "sign_in.client_secret")}
    assert any("HUBNET_OIDC_CLIENT_SECRET" in p.message for p in problems)
    assert all("s3cret" not in str(p) for p in problems)
    pack = _with_sign_in(
        tmp_path / "in-a-rule", '\n[[sign_in.rule]]\nclaim = "groups"\nvalue = "g"\nissuer = "x"\n'
    )
    [problem] = _problems(pack)
    assert (problem.line, problem.field) == (8, "sign_in.rule[1].issuer")
    assert (
        problem.message
        == "issuer is not read here; the keys are claim, value, role, areas, services (docs/county.md)"
    )


def test_a_repeated_claim_value_with_another_role_is_a_contradiction(tmp_path: Path) -> None:
    rule = '\n[[sign_in.rule]]\nclaim = "groups"\nvalue = "g1"\nrole = "{role}"\nareas = ["harlow"]\n'
    pack = _with_sign_in(tmp_path, rule.format(role="hub-manager") + rule.format(role="hub-practitioner"))
    [problem] = _problems(pack)
    assert (problem.line, problem.field) == (11, "sign_in.rule[2]")
    assert "hub-practitioner never applies" in problem.message
    pack = _with_sign_in(tmp_path / "same", rule.format(role="hub-manager") * 2)
    [problem] = _problems(pack)
    assert "merge the two into one rule" in problem.message


def test_a_rule_granting_nothing_and_a_map_nobody_can_sign_in_with(tmp_path: Path) -> None:
    pack = _with_sign_in(
        tmp_path,
        '\n[[sign_in.rule]]\nclaim = "groups"\nvalue = "g1"\n'  # lines 5-7: grants nothing
        '\n[[sign_in.rule]]\nclaim = "groups"\nvalue = "g2"\nareas = ["harlow"]\n',
    )
    found = {(p.line, p.field, p.message) for p in _problems(pack)}
    assert found == {
        (5, "sign_in.rule[1]", "grants nothing: give it a role, areas or services"),
        (None, "sign_in", "no rule gives a role, so every sign-in would be refused"),
    }


def test_an_empty_sign_in_means_local_accounts_and_is_accepted(tmp_path: Path) -> None:
    pack = _with_sign_in(tmp_path, "\n[sign_in]\n")
    assert isinstance(check_pack(pack), CountyPack)


def test_a_rule_on_the_cis2_selected_role_needs_national_rbac(tmp_path: Path) -> None:
    rule = (
        "\n[[sign_in.rule]]\n"  # line 5
        'claim = "selected_role.role_code"\n'  # line 6
        'value = "R8001"\n'
        'role = "health-visitor"\n'
        'areas = ["tendring"]\n'
    )
    found = [(p.line, p.field, p.message) for p in _problems(_with_sign_in(tmp_path, rule))]
    says = (
        "selected_role.role_code is the CIS2 selected role's, read only with national_rbac = true in "
        "[sign_in] (and userinfo = true for CIS2): add them, or the rule never matches"
    )
    assert found == [(6, "sign_in.rule[1].claim", says)]
    cis2 = "\n[sign_in]\nuserinfo = true\nnational_rbac = true\n" + rule
    assert isinstance(check_pack(_with_sign_in(tmp_path / "cis2", cis2)), CountyPack)
