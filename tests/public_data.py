"""Public samples written by others, copied into the repository (tests/data/public/, see its README).

They live inside the repository so that a fresh clone alone runs every connector test: a missing
folder is a broken checkout, so it fails the test instead of skipping it.
"""

from __future__ import annotations

from pathlib import Path

PUBLIC_DATA = Path(__file__).resolve().parent / "data" / "public"


def public_sample(*parts: str) -> Path:
    """A file or folder of the public samples; raises when the checkout lacks it."""
    path = PUBLIC_DATA.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"public sample {path} is missing: tests/data/public is part of the repository"
        )
    return path
