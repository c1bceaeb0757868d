"""What every format writer does, and the CSV and JSON layouts several of them share.

A writer is called by the feed assembler (`services.synthetic.feeds`) in three steps: `fields`
(the record as the partner holds it), optionally `malform` (break it on purpose), `encode` (bytes
of one record); then, per delivery file, `assemble` (the file around the records, and each
record's reference in it, e.g. `line 12`, as connectors report it).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import Enum
from typing import Any, ClassVar

from services.synthetic.mess import View, bad_date
from services.synthetic.partners import Directory, Partner
from services.synthetic.records import LifeEvent

Fields = dict[str, Any]


class Defect(Enum):
    """How a malformed record travels: in its batch (`INLINE`), alone in a file of its own so that
    no connector's batch handling can hide it (`ALONE`), or alone in a truncated file (`TRUNCATED`)."""

    INLINE = "inline"
    ALONE = "alone"
    TRUNCATED = "truncated"


class FormatWriter(ABC):
    """One partner format. `period` is how often the partner delivers: month, term or day."""

    fmt: ClassVar[str]
    extension: ClassVar[str]
    period: ClassVar[str] = "month"
    versioned: ClassVar[bool] = True
    """Whether the format carries a record version, so a corrected record can be resent."""
    one_per_file: ClassVar[bool] = False
    """Whether each record travels in a file of its own (a format whose input is one message)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    @abstractmethod
    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        """The record as the partner holds it; must keep `record_id` findable in the encoded bytes."""

    @abstractmethod
    def malform(self, fields: Fields, rng: random.Random) -> Defect:
        """Break the record in one way a connector must reject; say how it travels."""

    @abstractmethod
    def encode(self, fields: Fields) -> bytes:
        """Bytes of one record, as it sits inside a delivery file."""

    @abstractmethod
    def assemble(
        self, partner: Partner, group: str, period: str, bodies: Sequence[bytes]
    ) -> tuple[bytes, list[str]]:
        """A whole delivery file around the records, and each record's reference in it."""

    def version_of(self, fields: Fields) -> str:
        """The record version as the ground truth states it."""
        return str(fields.get("record_version", "1"))

    def record_id_of(self, fields: Fields) -> str:
        """The partner's own id of the record as the ground truth states it."""
        return str(fields["record_id"])

    def correctable(self, fields: Fields) -> bool:
        """Whether this record may be resent corrected at the next version."""
        return self.versioned

    def extension_for(self, group: str) -> str:
        """File extension of a group's delivery files (one format may come as CSV or JSON)."""
        return self.extension

    def retraction(self, fields: Fields) -> Fields | None:
        """The record withdrawn by its partner at the next version, where the format can say so."""
        return None


def csv_cell(value: object) -> str:
    """RFC 4180 quoting, only where a cell needs it (checked char by char: this runs per cell)."""
    text = "" if value is None else str(value)
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


class CsvWriter(FormatWriter):
    """Flat CSV extracts of docs/connectors/native-formats.md: header line, one row per record."""

    extension = "csv"
    columns: ClassVar[tuple[str, ...]]
    date_columns: ClassVar[tuple[str, ...]]
    required_columns: ClassVar[tuple[str, ...]]

    def encode(self, fields: Fields) -> bytes:
        return (",".join([csv_cell(fields.get(c)) for c in self.columns]) + "\r\n").encode()

    def assemble(
        self, partner: Partner, group: str, period: str, bodies: Sequence[bytes]
    ) -> tuple[bytes, list[str]]:
        header = (",".join(self.columns) + "\r\n").encode()
        return header + b"".join(bodies), [f"line {n}" for n in range(2, len(bodies) + 2)]

    def malform(self, fields: Fields, rng: random.Random) -> Defect:
        """A date no one can read, or a required cell left empty."""
        if rng.random() < 0.5:
            column = rng.choice(self.date_columns)
            fields[column] = bad_date(rng, fields["_day"])
        else:
            fields[rng.choice(self.required_columns)] = ""
        return Defect.INLINE


def json_array(bodies: Sequence[bytes], wrapper_key: str | None = None) -> tuple[bytes, list[str]]:
    """A JSON array of encoded objects, optionally as `{"<key>": [...]}`; refs are `entry N`."""
    array = b"[\n" + b",\n".join(bodies) + b"\n]"
    data = b'{"%s": %s}' % (wrapper_key.encode(), array) if wrapper_key else array
    return data + b"\n", [f"entry {n}" for n in range(1, len(bodies) + 1)]


def person_cells(view: View, sex: str | None = None) -> Fields:
    """The identifying columns the flat formats share, as this partner holds them."""
    cells: Fields = {
        "nhs_number": view.nhs_number or "",
        "given_name": view.given,
        "family_name": view.surname,
        "birth_date": view.birth_date.isoformat(),
        "postcode": view.postcode,
    }
    if sex is not None:
        cells["sex"] = sex
    return cells
