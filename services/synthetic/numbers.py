"""Issuing identifiers the way their real issuers do, from test ranges, with valid check characters.

NHS numbers come from the 999 000 0000 - 999 999 9999 range reserved for testing, so a synthetic
number can never be a real patient's. UPNs use the Essex LA number (881), the school's
establishment number and the year of allocation, as DfE's scheme does. Numbers only ever grow, so
each is issued once.
"""

from __future__ import annotations

import random

from schemas.errors import HubnetError
from schemas.identifiers import nhs_check_digit, upn_check_letter

NHS_TEST_FIRST = 999_000_000
NHS_TEST_LAST = 999_999_999


class RangeExhaustedError(HubnetError):
    """More people were asked for than the NHS test range can number."""


class NhsNumbers:
    """Issues unique valid NHS numbers in ascending order with random gaps (like real issue)."""

    def __init__(self, rng: random.Random, expected_people: int) -> None:
        self._rng = rng
        self._next = NHS_TEST_FIRST + rng.randrange(1000)
        # valid numbers are ~91% of the range: leave headroom so the gaps never run it dry
        self._max_gap = max(1, min(40, int(800_000 / max(1, expected_people))))

    def issue(self) -> str:
        while self._next <= NHS_TEST_LAST:
            first_nine = str(self._next)
            self._next += 1 + self._rng.randrange(self._max_gap)
            check = nhs_check_digit(first_nine)
            if check is not None:
                return f"{first_nine}{check}"
        raise RangeExhaustedError(
            "the NHS test range 999 000 0000 - 999 999 9999 is used up: generate fewer families"
        )


class Upns:
    """UPNs per school and year of allocation: check letter + 881 + estab + yy + serial."""

    def __init__(self, la_code: str) -> None:
        self._la = la_code
        self._serials: dict[tuple[str, int], int] = {}

    def issue(self, estab: str, year: int) -> str:
        key = (estab, year % 100)
        serial = self._serials.get(key, 0) + 1
        self._serials[key] = serial
        if serial > 999:
            # a school gives at most 999 UPNs a year: later ones borrow the next year's block
            return self.issue(estab, year + 1)
        body = f"{self._la}{estab}{year % 100:02d}{serial:03d}"
        return upn_check_letter(body) + body


class Counter:
    """Sequential local record numbers with a prefix, e.g. social care person ids `CS0001234`."""

    def __init__(self, prefix: str, start: int = 1, width: int = 7) -> None:
        self._prefix = prefix
        self._value = start - 1
        self._width = width

    def issue(self) -> str:
        self._value += 1
        return f"{self._prefix}{self._value:0{self._width}d}"
