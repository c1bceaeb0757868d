"""Mutated partner inputs into every registered connector: the contract of connectors/base.py holds.

Seeds are each format's own samples (samples/<format>/, synthetic data written for hubnet); the
mutations (tests/fuzz/inputs.py) flip and cut bytes, move lines, and change CSV cells, HL7
segments and fields, JSON values and keys, and XML elements and attributes. Every case must end
as valid events or rejections with a reason (tests/fuzz/oracle.py says exactly what is checked).

Profiles, chosen with HUBNET_FUZZ_PROFILE: `ci` (default; 500 cases per connector, derandomised
so every CI run tries the same cases) and `nightly` (10,000 per connector, a fresh seed each night,
failures kept in the hypothesis example database). Arbitrary bytes into the HTTP API and
schemathesis over the partner API live in tests/unit/gateway/test_openapi_fuzz.py.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis.errors import InvalidArgument

from connectors import registry
from tests.fuzz.inputs import mutated, seeds
from tests.fuzz.oracle import check_input

pytestmark = pytest.mark.fuzz
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci",
    max_examples=500,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile("nightly", max_examples=10_000, deadline=None, suppress_health_check=_SLOW_IS_FINE)


def profile() -> settings:
    name = os.environ.get("HUBNET_FUZZ_PROFILE", "ci")
    try:
        return settings.get_profile(name)
    except InvalidArgument:
        raise pytest.UsageError(f"HUBNET_FUZZ_PROFILE={name!r}: use 'ci' or 'nightly'") from None


@pytest.mark.parametrize("fmt", registry.formats())
def test_mutated_samples_end_as_valid_events_or_reasoned_rejections(fmt: str) -> None:
    samples = seeds(fmt)
    assert samples, f"samples/{fmt}/ has no sample to mutate"
    seen: Counter[str] = Counter()

    @profile()
    @given(data=mutated(samples))
    def case(data: bytes) -> None:
        note(f"{fmt} input, {len(data)} bytes: {data[:3000]!r}")  # shown for the failing case only
        seen.update(check_input(fmt, data))

    case()
    # the mutations must reach mapping: some cases still convert, others are rejected
    assert seen["event"], f"{fmt}: no mutated case converted: {dict(seen)}"
    assert seen["rejection"], f"{fmt}: no mutated case was rejected: {dict(seen)}"


@pytest.mark.parametrize("fmt", registry.formats())
def test_every_unmutated_sample_passes_the_same_checks(fmt: str) -> None:
    """Guards the oracle: the samples themselves are accepted by it (and give events)."""
    events = sum(check_input(fmt, sample)["event"] for sample in seeds(fmt))
    assert events, f"no sample of {fmt} gives a single event"
