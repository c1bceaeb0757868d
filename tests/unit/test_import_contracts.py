"""The import-linter contract that keeps the synthetic county out of production names its source
modules one by one (import-linter has no "all but"), so a module added later would escape it
silently. This holds the list to the tree: every package under services/ and every CLI module is
either a source of the contract or one of the named exceptions (pyproject.toml says why each)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "production code never imports the synthetic county generator"
EXCEPTIONS = {
    "services.synthetic", "services.bench", "services.stack",
    "services.cli.generate", "services.cli.replay", "services.cli.identity_score", "services.cli.up",
    "services.cli.bench", "services.cli.main", "services.cli.__main__", "services.cli.__init__",
}  # fmt: skip


def _contract() -> dict[str, Any]:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = settings["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"] == CONTRACT)


def _production_modules() -> set[str]:
    services = ROOT / "services"
    packages = {f"services.{p.name}" for p in services.iterdir() if (p / "__init__.py").exists()}
    cli = {f"services.cli.{m.stem}" for m in (services / "cli").glob("*.py")}
    return (packages - {"services.cli"}) | cli


def test_every_production_module_is_a_source_of_the_no_generator_contract() -> None:
    contract = _contract()
    sources = set(contract["source_modules"])
    missing = sorted(_production_modules() - sources - EXCEPTIONS)
    assert not missing, (
        f"add to the contract's source_modules in pyproject.toml (or explain an exception): {missing}"
    )
    assert not (sources & EXCEPTIONS), "a named exception is also a source of the contract"
    assert "ignore_imports" not in contract
