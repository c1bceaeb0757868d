"""Load a county's reference folder (`<county>/reference/`, as `hubnet generate` writes it and a
county pack ships it): each file present is validated and loaded; a missing one is skipped."""

from __future__ import annotations

from pathlib import Path

from services.reference.files import COUNTY_FILES
from services.reference.store import ReferenceStore, load_file


def load_county_reference(store: ReferenceStore, county: Path) -> dict[str, int]:
    """Per kind loaded, how many names; raises ReferenceFileError on the first bad file."""
    loaded: dict[str, int] = {}
    for kind, name in COUNTY_FILES.items():
        path = county / "reference" / name
        if path.is_file():
            loaded[kind] = load_file(store, kind, path)
    return loaded
