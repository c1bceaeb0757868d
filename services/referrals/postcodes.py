"""UK postcodes written one way, so that a postcode from a partner finds its row in the county pack.

Routing and the timeline look a family's postcode up in the loaded county pack (ONSPD/NSPL rows,
services/county/geography.py), always by the full postcode: an outward code alone is never used
to guess a hub area.
"""

from __future__ import annotations

import re

_INWARD = 3  # characters of the inward code ("1AB"); the shortest full postcode has five


def normalise(postcode: str) -> str:
    """Upper case, one space before the inward code ("co151ab" -> "CO15 1AB")."""
    compact = re.sub(r"\s+", "", postcode).upper()
    return f"{compact[:-_INWARD]} {compact[-_INWARD:]}" if len(compact) > _INWARD else compact
