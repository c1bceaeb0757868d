"""Every file the code reads at run time ships in the built package, not only in a checkout.

The Docker image installs hubnet as a wheel: a template, stylesheet or vendored asset missing from
`[tool.setuptools.package-data]` works in `make run` (an editable install reads the checkout) and
fails in production.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("connectors", "services", "schemas")


def test_every_non_python_file_of_the_packages_is_package_data() -> None:
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    left_out = sorted(
        str(path.relative_to(REPO))
        for package in PACKAGES
        for path in (REPO / package).rglob("*")
        if path.is_file()
        and path.suffix not in {".py", ".pyc"}
        and "__pycache__" not in path.parts
        and not any(fnmatch(path.name, pattern) for pattern in patterns)
    )
    assert not left_out, f"not in pyproject's package-data, so missing from the wheel: {left_out}"
