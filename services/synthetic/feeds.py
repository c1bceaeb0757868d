"""From life events to delivery files: record ids, realistic delivery faults, files and truth.

`Feeds.add` turns one `LifeEvent` into the record(s) its partner sends: the record itself, and
sometimes a late delivery, a resent duplicate, a corrected version or a retraction, or a
deliberately malformed record. `Feeds.write` groups records into one file per partner, format,
feed group and delivery period, writes them, and returns the manifest entries and the
ground-truth rows (see docs/synthetic-county.md for both layouts).
"""

from __future__ import annotations

import random
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from services.synthetic.mess import MessRates, Views
from services.synthetic.partners import Directory
from services.synthetic.records import Expected, LifeEvent, SourceRecord
from services.synthetic.write_attendance import AttendanceWriter
from services.synthetic.write_csc import SocialCareWriter
from services.synthetic.write_ctf import CtfWriter
from services.synthetic.write_fhir import FhirWriter
from services.synthetic.write_hl7 import Hl7Writer
from services.synthetic.write_hv import HealthVisitingWriter
from services.synthetic.write_nems import NemsWriter
from services.synthetic.write_vcs import VcsCsvWriter, VcsJsonWriter
from services.synthetic.writer import Defect, Fields, FormatWriter

WRITERS: tuple[type[FormatWriter], ...] = (
    AttendanceWriter,
    CtfWriter,
    FhirWriter,
    HealthVisitingWriter,
    Hl7Writer,
    NemsWriter,
    SocialCareWriter,
    VcsCsvWriter,
    VcsJsonWriter,
)
FORMATS: tuple[str, ...] = tuple(sorted(w.fmt for w in WRITERS))
_TAGS = {fmt: "".join(part[0] for part in fmt.split("-")).upper() for fmt in FORMATS}  # hv-csv -> HC
_SEASONS = ("spring", "summer", "autumn")
_TERM_ENDS = {"spring": (3, 31), "summer": (7, 20), "autumn": (12, 19)}
RESEND = "-resend"


def period_of(kind: str, day: date) -> str:
    """The delivery period a record of that day belongs to: `2024-05`, `2024-autumn` or a date."""
    if kind == "month":
        return f"{day.year}-{day.month:02d}"
    if kind == "term":
        season = "spring" if day.month <= 3 else "summer" if day.month <= 8 else "autumn"
        return f"{day.year}-{season}"
    return day.isoformat()


def period_index(kind: str, period: str) -> int:
    """Position of a month or term period in time, so periods can be compared and stepped."""
    year, rest = int(period[:4]), period[5:]
    return year * 12 + int(rest) - 1 if kind == "month" else year * 3 + _SEASONS.index(rest)


def period_at(kind: str, index: int) -> str:
    if kind == "month":
        return f"{index // 12}-{index % 12 + 1:02d}"
    return f"{index // 3}-{_SEASONS[index % 3]}"


def sent_at(kind: str, period: str, partner: str) -> datetime:
    """When the partner delivers a period's file: after the period ends, at its own usual time."""
    jitter = zlib.crc32(partner.encode())
    if kind == "month":
        year, month = int(period[:4]), int(period[5:7])
        first = date(year + month // 12, month % 12 + 1, 1)
        day = first + timedelta(days=jitter % 5)
    elif kind == "term":
        day = date(int(period[:4]), *_TERM_ENDS[period[5:]]) + timedelta(days=10 + jitter % 5)
    else:
        day = date.fromisoformat(period[:10]) + timedelta(days=7 if period.endswith(RESEND) else 0)
    return datetime.combine(day, time(1 + jitter % 6, jitter % 60), tzinfo=UTC)


class TruthSink(Protocol):
    """Where ground-truth rows go (a `csv.writer`), so a million rows never sit in memory at once."""

    def writerows(self, rows: Iterable[Iterable[object]], /) -> None: ...


class FileKey(NamedTuple):
    """One delivery file (a named tuple: one is made per record, so it must be cheap)."""

    partner: str
    fmt: str
    group: str
    period: str
    alone: str = ""  # record id of a record that travels in a file of its own
    truncated: bool = False


class Feeds:
    """Collects every record of the county, then writes the delivery files."""

    def __init__(self, directory: Directory, rates: MessRates, last_day: date) -> None:
        self.directory = directory
        self.rates = rates
        self.last_day = last_day
        self.writers = {cls.fmt: cls(directory) for cls in WRITERS}
        self.files: dict[FileKey, list[SourceRecord]] = defaultdict(list)
        self._counters: dict[tuple[str, str], int] = defaultdict(int)

    def _record_id(self, event: LifeEvent) -> str:
        key = (event.partner.code, event.fmt)
        self._counters[key] += 1
        return f"{event.partner.code}-{_TAGS[event.fmt]}{self._counters[key]:08d}"

    def _later(self, kind: str, period: str, rng: random.Random) -> str:
        if kind == "day":
            return period + RESEND
        last = period_index(kind, period_of(kind, self.last_day))
        moved = period_index(kind, period) + rng.randint(1, 4)
        return period_at(kind, max(min(moved, last), period_index(kind, period)))

    def add(self, event: LifeEvent, views: Views, rng: random.Random) -> None:
        """The record(s) one event leaves, with the delivery faults drawn for it."""
        writer = self.writers[event.fmt]
        day = event.at.date()
        record_id = self._record_id(event)
        fields = writer.fields(
            event, views.view(event.partner, event.person, event.family, day, event.kin), record_id, 1
        )
        period = period_of(writer.period, day)
        rates = self.rates
        roll = rng.random()
        if roll < rates.malformed:
            defect = writer.malform(fields, rng)
            self._keep(writer, event, fields, period, Expected.REJECT, defect=defect)
            return
        if roll < rates.malformed + rates.late and writer.period != "day":
            period = self._later(writer.period, period, rng)
        self._keep(writer, event, fields, period, Expected.EVENT)
        roll = rng.random()
        if roll < rates.duplicate:
            self._keep(writer, event, fields, self._later(writer.period, period, rng), Expected.DUPLICATE)
        elif roll < rates.duplicate + rates.corrected and writer.correctable(fields):
            true = views.true_view(event.partner, event.person, event.family, day, event.kin)
            corrected = writer.fields(event, true, record_id, 2)
            self._keep(writer, event, corrected, self._later(writer.period, period, rng), Expected.EVENT)
        elif roll < rates.duplicate + rates.corrected + rates.retracted:
            withdrawn = writer.retraction(fields)
            if withdrawn is not None:
                self._keep(writer, event, withdrawn, self._later(writer.period, period, rng), Expected.EVENT)

    def _keep(
        self,
        writer: FormatWriter,
        event: LifeEvent,
        fields: Fields,
        period: str,
        expected: Expected,
        *,
        defect: Defect = Defect.INLINE,
    ) -> None:
        record = SourceRecord(
            partner=event.partner.code,
            fmt=event.fmt,
            group=event.group,
            period=period,
            occurred=event.at,
            record_id=writer.record_id_of(fields),
            version=writer.version_of(fields),
            person_id=event.person.person_id,
            family_id=event.family.family_id,
            body=writer.encode(fields),
            expected=expected,
            alone=defect is not Defect.INLINE or writer.one_per_file,
        )
        alone = record.record_id if record.alone else ""
        key = FileKey(record.partner, record.fmt, record.group, period, alone, defect is Defect.TRUNCATED)
        self.files[key].append(record)

    def write(
        self, out: Path, truth: TruthSink, progress: Callable[[int], None] | None = None
    ) -> list[dict[str, Any]]:
        """Write every delivery file under `out/feeds`, streaming ground-truth rows (in the order
        of `GROUND_TRUTH_COLUMNS`) to `truth`; return the manifest's file entries."""
        partners = self.directory.by_code()
        entries: list[dict[str, Any]] = []
        for key in sorted(self.files, key=lambda k: (k.partner, k.fmt, k.group, k.period, k.alone)):
            records = sorted(self.files.pop(key), key=lambda r: (r.occurred, r.record_id, r.version))
            writer = self.writers[key.fmt]
            partner = partners[key.partner]
            data, refs = writer.assemble(partner, key.group, key.period, [r.body for r in records])
            if key.truncated:
                data = _truncate(data, records[0].record_id)
            suffix = f"-{key.alone}" if key.alone else ""
            name = f"{key.group}-{key.period}{suffix}.{writer.extension_for(key.group)}"
            relative = f"feeds/{key.partner}/{key.fmt}/{name}"
            path = out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            entries.append(
                {
                    "path": relative,
                    "partner": key.partner,
                    "partner_kind": partner.kind,
                    "format": key.fmt,
                    "group": key.group,
                    "period": key.period,
                    "sent_at": sent_at(writer.period, key.period, key.partner).isoformat(),
                    "records": len(records),
                }
            )
            truth.writerows(
                (
                    key.fmt,
                    key.partner,
                    relative,
                    ref,
                    r.record_id,
                    r.version,
                    r.person_id,
                    r.family_id,
                    r.expected,
                )
                for ref, r in zip(refs, records, strict=True)
            )
            if progress:
                progress(len(records))
        return entries

    def record_count(self) -> int:
        return sum(len(records) for records in self.files.values())


def _truncate(data: bytes, record_id: str) -> bytes:
    """Cut a file off mid-way, as an interrupted transfer does, keeping the record id readable."""
    cut = max(len(data) * 3 // 5, data.find(record_id.encode()) + len(record_id) + 1)
    return data[: min(cut, len(data) - 2)]
