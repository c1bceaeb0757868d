"""Blocking keys: which stored records are worth scoring against a new one.

Scoring every stored record would make each event cost more as the county grows; instead each
record is filed under a few keys, and a new record is compared only with records sharing a key.
Each key tolerates a different kind of disagreement, so a true match is missed only when it
disagrees in every way at once:

- `nd` family-name sound + date of birth: first-name typos and nicknames, a move.
- `gd` formal first name + date of birth: a changed family name (marriage, a child's new surname).
- `np` family-name sound + first initial + postcode: a mistyped date of birth.
- `ym` family-name sound + first-name sound + birth year and month: a mistyped day and a move.
- `yd` family-name sound + first-name sound + birth year and day: a mistyped month and a move.

A query also asks with the day and month swapped and with the names the other way round, so
those slips find their match. Keys hold no readable personal data beyond what the store already
keeps, and a block is capped (`BLOCK_LIMIT`) so a very common name cannot make one event slow.
"""

from __future__ import annotations

from services.identity.comparators import canonical_given
from services.identity.facts import Facts

BLOCK_LIMIT = 40
"""Most records read per key: a block this large means the key is too common to tell people apart."""

_SOUNDEX_CODES = {
    **dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
    "l": "4", **dict.fromkeys("mn", "5"), "r": "6",
}  # fmt: skip


def soundex(name: str) -> str:
    """American Soundex of the first word of a folded name: Smith and Smyth share S530."""
    word = name.split(maxsplit=1)[0] if name else ""
    if not word:
        return ""
    out, previous = word[0], _SOUNDEX_CODES.get(word[0], "")
    for ch in word[1:]:
        code = _SOUNDEX_CODES.get(ch, "")
        if code and code != previous:
            out += code
        if ch not in "hw":  # h and w do not separate two letters of the same code; vowels do
            previous = code
    return (out + "000")[:4]


def index_keys(facts: Facts) -> set[str]:
    """The keys a stored record is filed under."""
    return _keys(facts.given, facts.family, facts.birth_date, facts.postcode)


def query_keys(facts: Facts) -> set[str]:
    """The keys to look up for a new record: its own, then its date with day and month swapped
    (only when that is a date) and its names the other way round. The two variants ask only the
    exact-date keys: swapped day and month plus another slip is a different birth date to
    scoring anyway, and reversed names with a date slip and a move is more than one slip at a
    time. Each key looked up is a read of the index, so none is asked that cannot find a match."""
    keys = index_keys(facts)
    born = facts.birth_date
    if len(born) == 10 and born[8:10] != born[5:7] and born[8:10] <= "12":
        swapped = f"{born[:4]}-{born[8:10]}-{born[5:7]}"
        keys |= _keys(facts.given, facts.family, swapped, facts.postcode, slips=False)
    if facts.given and facts.family:
        keys |= _keys(facts.family, facts.given.split()[0], born, facts.postcode, slips=False)
    return keys


def _keys(given: str, family: str, born: str, postcode: str, *, slips: bool = True) -> set[str]:
    """The keys of one reading of a record; `slips`: with the keys that tolerate a date slip."""
    first = canonical_given(given.split(maxsplit=1)[0]) if given else ""
    family_sound = soundex(family)
    keys: set[str] = set()
    if family_sound and born:
        keys.add(f"nd|{family_sound}|{born}")
        if slips and first and len(born) == 10:  # a full date: each key leaves out the part that may be wrong
            first_sound = soundex(first)
            keys.add(f"ym|{family_sound}|{first_sound}|{born[:7]}")
            keys.add(f"yd|{family_sound}|{first_sound}|{born[:4]}|{born[8:]}")
    if first and born:
        keys.add(f"gd|{first}|{born}")
    if family_sound and first and postcode:
        keys.add(f"np|{family_sound}|{first[0]}|{postcode}")
    return keys
