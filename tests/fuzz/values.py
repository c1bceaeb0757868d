"""Values a mutation puts into a field: the ones partner systems really send wrong, plus noise.

Each is chosen to get past a parser and reach mapping code: dates that look right and are not,
identifiers one digit off, Unicode digits that `\\d` accepts, delimiters of every format, and very
long or empty text. `CANARY` marks a value as personal data the fuzz test watches for in reasons.
"""

from __future__ import annotations

from hypothesis import strategies as st

CANARY = "Zqxcanary"
"""Stands in for a name or other personal value: no rejection reason may repeat it."""

VALID_NHS = "9990000018"
ARABIC_INDIC_NHS = "".join(chr(0x0660 + int(d)) for d in VALID_NHS)
"""The same number in Arabic-Indic digits: a regex `\\d` and `int()` accept it, ASCII systems do not."""

EDGE_TEXT: tuple[str, ...] = (
    "",
    " ",
    "  padded  ",
    "0",
    "-1",
    "00",
    "1e999",
    "NaN",
    "null",
    "None",
    "true",
    "N/A",
    VALID_NHS,
    "999 000 0018",
    "999-000-0018",
    "9990000019",  # check digit wrong
    "999000001",  # nine digits
    "99900000180",  # eleven digits
    ARABIC_INDIC_NHS,
    "A881200119001",
    "P881200119001",
    "P88120011900",
    "2024-02-29",
    "2025-02-29",
    "2025-13-01",
    "2025-00-10",
    "1900-01-01",
    "0001-01-01",
    "9999-12-31",
    "2999-01-01",
    "31/12/2024",
    "12/31/2024",
    "20241231",
    "202412",
    "2024",
    "2024-12-31T25:61:00Z",
    "2024-12-31T10:00:00+14:00",
    "2024-12-31T10:00:00-12:00",
    "2024-12-31T10:00:00",
    "2024-12-31 10:00",
    "20241231103000+0000",
    "20241231103000+1615",  # an offset beyond +14:00, which FHIR dateTime cannot carry
    "20241231103000-2400",
    "2024-12-31T10:00:00+16:15",
    "20241231103000.1234-0500",
    "CO15 1AB",
    "co151ab",
    "ZZ99 3CZ",
    "SW1A",
    "\x00",
    "\ufeff",
    "\u202eevil",
    "é😀",
    "\ud7ff\ue000",
    "<x>&amp;</x>",
    "]]>",
    '{"a": 1}',
    "=cmd|' /C calc'!A0",
    "'; DROP TABLE events; --",
    "%s%n%x",
    "../../etc/passwd",
    "\n",
    "\r\n",
    "\r",
    '"',
    ",",
    "|",
    "^",
    "~",
    "\\",
    "&",
    "\\E\\",
    '""',
    "^^^^",
    "~~~",
    "A" * 5000,
    CANARY,
    f"{CANARY} {CANARY}",
)


def edge_text() -> st.SearchStrategy[str]:
    """Mostly the listed values, sometimes arbitrary short text."""
    return st.one_of(
        st.sampled_from(EDGE_TEXT),
        st.sampled_from(EDGE_TEXT),
        st.sampled_from(EDGE_TEXT),
        st.text(max_size=20),
    )


def edge_names() -> st.SearchStrategy[str]:
    """The same for element, key and column names: never the canary, since a reason may rightly
    name an unknown field (names are structure, not personal data)."""
    return edge_text().filter(lambda text: CANARY not in text)


EDGE_BYTES: tuple[bytes, ...] = (
    b"\x00",
    b"\xff",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc3",  # a lone UTF-8 lead byte
    b"\r",
    b"\n",
    b"\r\n",
    b'"',
    b",",
    b"<",
    b">",
    b"&",
    b"]]>",
    b"<!DOCTYPE x [<!ENTITY e 'x'>]>",
    b"|",
    b"^",
    b"~",
    b"\\",
    b"\x0b",
    b"\x1c",  # MLLP end block
    b"{",
    b"}",
    b"[",
    b"]",
)
