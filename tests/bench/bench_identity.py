"""Benchmark of identity resolution: events/s with 10,000 and with 1,000,000 persons in the index.

Blocking keeps the cost of an event independent of the index size, so the second figure should
be within 2x of the first. The index is filled with synthetic people (random names from short
lists, dates of birth over 25 years, made-up postcodes); then the same mix of events is linked
against each: a third name a known NHS number, a third are known people by demographics only
(with a typo), a third are new people.

Events are linked as the worker links them: `--batch` (default the worker's BATCH_SIZE) events per
transaction, a savepoint each (`IdentityService.link_batch`); `--batch 1` commits every event on
its own, as the worker did before group commit.

Filling a million persons takes minutes: `--keep DIR` keeps each filled index in DIR (named by
size and by a fingerprint of the blocking keys, the fill and the schema, so a change to any of
them fills it again) and every later run links against a fresh copy of it. `--rounds N` links
the events N times (each against a fresh copy) and prints every figure, for an honest range on a
shared machine; each figure also gives the CPU time per event, which other work on the machine
disturbs less than the wall clock.

`--warmup N` (default 1,500) events are linked first and not timed, as a worker that has been
running has warm caches: a freshly opened store reads every page of a million-person index from
the operating system at first (at a million persons a cold start is ~1.5x slower than a warm one;
at 10,000 the index is in memory after a few events). `--warmup 0` measures the cold start.

Run: python tests/bench/bench_identity.py [--sizes 10000,1000000] [--events 3000] [--batch 500]
     [--keep DIR] [--rounds 1] [--warmup 1500]
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import pickle
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from schemas.envelope import Entry, HubEvent, Identifier, resource_id
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, local_system, nhs_check_digit
from services.identity import blocking
from services.identity.blocking import index_keys
from services.identity.facts import Facts
from services.identity.families import MEMBER, family_id_for
from services.identity.resolver import MACHINE, person_id_for
from services.identity.service import IdentityService
from services.identity.store import SCHEMA, IdentityStore
from services.identity.worker import BATCH_SIZE

_GIVEN_NAMES = (
    "amy ava ben charlie chloe daisy dylan ella emily ethan evie finley freddie george grace harry isla "
    "jack jacob jessica joshua leo lily logan lucas mason mia millie noah oliver olivia oscar poppy "
    "riley rosie ruby samuel sophia sophie theo thomas william zara aisha mohammed fatima yusuf ayesha "
    "zain maryam adam hannah jasmine kai layla max nathan phoebe reuben scarlett toby willow"
)
_FAMILY_NAMES = (
    "smith jones taylor brown williams wilson johnson davies robinson wright thompson evans walker white "
    "roberts green hall wood jackson clarke patel khan ahmed ali hussain begum turner hill moore cooper "
    "ward morris king watson harris baker young allen mitchell bell lewis martin lee clark scott kelly "
    "cook murphy morgan bennett cox price hughes edwards bailey carter phillips parker collins"
)
_STEMS = [
    "ash",
    "brad",
    "carr",
    "dun",
    "ell",
    "fair",
    "gar",
    "hol",
    "kin",
    "lang",
    "mar",
    "nor",
    "pen",
    "ross",
    "shaw",
    "thorn",
    "wal",
    "whit",
    "york",
    "ald",
]
_ENDS = [
    "by",
    "den",
    "field",
    "ford",
    "ham",
    "hurst",
    "ley",
    "man",
    "more",
    "ridge",
    "ston",
    "ton",
    "well",
    "wood",
    "worth",
    "ing",
    "er",
    "ett",
    "ins",
]
COMMON_GIVEN, COMMON_FAMILY = _GIVEN_NAMES.split(), _FAMILY_NAMES.split()
GIVEN = COMMON_GIVEN + [f"{a}{b}" for a in COMMON_GIVEN[:40] for b in ("a", "ie", "an", "el", "y")]
FAMILY = [f"{a}{b}" for a in _STEMS for b in _ENDS] + [f"{a}-{b}" for a in COMMON_FAMILY[:30] for b in _STEMS]
COMMON_SHARE = 0.3
"""A county's names: common ones often (30 % from the 70 most common), then a long tail (about
1,000 family and 270 given names), as real populations are. With the common names only, the
`ny` blocks (family and first-name sound + birth year) grow with the index and the cap, not the
data, bounds their cost."""
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
OUTCODES = ("CO15", "CO16", "CM1", "CM2", "SS1", "SS2", "RM14", "IG10", "CB10", "CO1", "CM20", "SS14")


def nhs_for(n: int) -> str:
    serial = n * 3
    while (check := nhs_check_digit(f"9{serial:08d}")) is None:
        serial += 1
    return f"9{serial:08d}{check}"


def facts_for(n: int, rng: random.Random) -> Facts:
    born = date(2000, 1, 1) + timedelta(days=rng.randrange(25 * 365))
    unit = "".join(rng.choice(INWARD_LETTERS) for _ in range(2))
    postcode = f"{rng.choice(OUTCODES)} {rng.randrange(1, 10)}{unit}"
    return Facts(
        identifiers=(Identifier(system=NHS_NUMBER, value=nhs_for(n)),),
        given=rng.choice(COMMON_GIVEN if rng.random() < COMMON_SHARE else GIVEN),
        family=rng.choice(COMMON_FAMILY if rng.random() < COMMON_SHARE else FAMILY),
        birth_date=born.isoformat(),
        sex=rng.choice(("male", "female")),
        postcode=postcode,
    )


def fill(store: IdentityStore, size: int, rng: random.Random) -> list[Facts]:
    """Insert `size` persons straight into the store, with what linking each one's first event
    leaves behind: the person, identifiers, profile and blocking keys, a household of their
    own, the event remembered and the audit line, so every table an event reads is full-size."""
    people = []
    with store.transaction():
        for n in range(size):
            facts = facts_for(n, rng)
            person_id = person_id_for(facts.tokens[0])
            store.add_person(person_id)
            store.attach(facts.tokens[0], person_id)
            store.add_profile(resource_id("bench", str(n)), person_id, facts, index_keys(facts))
            store.add_family(family_id_for(person_id))
            store.add_member(family_id_for(person_id), person_id, MEMBER, "own-household")
            store.remember(resource_id("bench-event", str(n)), {"person_id": person_id})
            store.audit("new", person_id, None, by=MACHINE, reason="no person matched")
            if n < 5000:
                people.append(facts)
    return people


def events(known: list[Facts], count: int, rng: random.Random) -> list[HubEvent]:
    out = []
    for n in range(count):
        kind = n % 3
        base = rng.choice(known) if kind < 2 else facts_for(10_000_000 + n, rng)
        identifiers = [{"system": NHS_NUMBER, "value": base.nhs}] if kind != 1 else []
        local = Identifier(system=local_system("bench", "client"), value=f"C{n}")
        family = base.family if kind != 1 else base.family[:-1] + "e"  # a typo in the family name
        patient = {
            "resourceType": "Patient",
            "id": resource_id("bench-patient", str(n)),
            "identifier": [*identifiers, {"system": local.system, "value": local.value}],
            "name": [{"given": [base.given.title()], "family": family.title()}],
            "birthDate": base.birth_date,
            "gender": base.sex,
            "address": [{"postalCode": base.postcode}],
        }
        subjects = [Identifier(**i) for i in identifiers] + [local]
        out.append(
            HubEvent.create(
                event_type=EventType.ENCOUNTER,
                source_partner="bench",
                source_system=local_system("bench", "events"),
                source_record_id=f"E{n}",
                record_version="1",
                occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
                subjects=subjects,
                entries=[Entry.of(patient)],
            )
        )
    return out


def filled(size: int, folder: Path, keep: Path | None) -> tuple[Path, list[Facts], random.Random]:
    """A copy in `folder` of an index of `size` persons, the people events are drawn from, and the
    random generator in the state the fill left it (so events are the same whether kept or not)."""
    fingerprint = hashlib.sha256(
        (inspect.getsource(blocking) + inspect.getsource(fill) + SCHEMA).encode()
    ).hexdigest()[:12]
    home = keep or folder
    home.mkdir(parents=True, exist_ok=True)
    database, sidecar = (
        home / f"identity-{size}-{fingerprint}.sqlite",
        home / f"identity-{size}-{fingerprint}.pickle",
    )
    if not sidecar.exists():
        rng = random.Random(size)
        store = IdentityStore.open(database)
        started = time.perf_counter()
        known = fill(store, size, rng)
        store.close()  # checkpoints the WAL into the database file, so a plain copy is whole
        print(f"{size:>9,} persons indexed in {time.perf_counter() - started:.0f}s", flush=True)
        sidecar.write_bytes(pickle.dumps((known, rng.getstate())))
    known, state = pickle.loads(sidecar.read_bytes())
    rng = random.Random()
    rng.setstate(state)
    if keep is None:
        return database, known, rng
    copy = folder / database.name
    shutil.copyfile(database, copy)
    with copy.open("rb") as written:  # the copy on disk, so the first commit does not flush it
        os.fsync(written.fileno())
    return copy, known, rng


def run(size: int, count: int, batch_size: int, keep: Path | None, warmup: int) -> float:
    with tempfile.TemporaryDirectory() as name:
        database, known, rng = filled(size, Path(name), keep)
        store = IdentityStore.open(database)
        service = IdentityService(store)
        every = events(known, warmup + count, rng)  # one call: no record id is used twice
        for start in range(0, warmup, batch_size):  # not timed: a running worker's caches are warm
            service.link_batch(every[start : min(start + batch_size, warmup)])
        batch = every[warmup:]
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, count, batch_size):
            service.link_batch(batch[start : start + batch_size])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        store.close()
    rate = count / seconds
    print(
        f"{size:>9,} persons: {rate:,.0f} events/s, {1e6 / rate:,.0f} µs per event "
        f"({cpu / count * 1e6:,.0f} µs CPU per event)",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=BATCH_SIZE, help="events per transaction")
    parser.add_argument("--keep", type=Path, help="keep filled indexes in this folder and reuse them")
    parser.add_argument("--rounds", type=int, default=1, help="link the events this many times per size")
    parser.add_argument(
        "--warmup", type=int, default=1500, help="events linked first, not timed (0: a cold start)"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    rates = {
        size: [run(size, args.events, args.batch, args.keep, args.warmup) for _ in range(args.rounds)]
        for size in sizes
    }
    if len(sizes) > 1:
        small, large = max(rates[sizes[0]]), max(rates[sizes[-1]])
        ratio = small / large
        verdict = "pass" if ratio < 2 else "MISS"
        print(
            f"best of {args.rounds}: {small:,.0f} events/s at {sizes[0]:,} persons, {large:,.0f} at "
            f"{sizes[-1]:,}: {ratio:.2f}x slower (target < 2x: {verdict})"
        )


if __name__ == "__main__":
    main()
