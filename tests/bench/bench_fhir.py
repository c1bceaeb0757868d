"""Benchmark of the `fhir` connector: conversion + validation of a 2,000-resource Bundle.

The Bundle repeats hubnet's sample (Patient, Encounter, Immunization, Organization) for 500
invented children with valid test-range NHS numbers, so every record is a real split, subject
lookup, reference rewrite and R4B validation. Target (DESIGN budget): 5,000 resources/s per core.

Run: python tests/bench/bench_fhir.py
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
from bench_support import report

from connectors.fhir.connector import FhirConnector
from schemas.identifiers import nhs_check_digit

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "fhir" / "family-hub-bundle.json"
CHILDREN = 500


def batch() -> bytes:
    """The sample's entries per child, with ids, fullUrls and NHS numbers made unique."""
    bundle: dict[str, Any] = orjson.loads(SAMPLE.read_bytes())
    entries: list[dict[str, Any]] = []
    serial = 999000100
    for child in range(CHILDREN):
        while nhs_check_digit(str(serial)) is None:
            serial += 1
        number = f"{serial}{nhs_check_digit(str(serial))}"
        serial += 1
        text = orjson.dumps(bundle["entry"]).decode()
        text = text.replace("7a0f6f1a000", f"{child:07d}a000").replace("-0001", f"-{child:04d}")
        text = text.replace("999 000 0026", number)
        entries += copy.deepcopy(orjson.loads(text))
    return orjson.dumps({**bundle, "entry": entries})


if __name__ == "__main__":
    data = batch()
    print(
        f"input: {len(orjson.loads(data)['entry']):,} resources (records + the Organizations they reference)"
    )
    report(FhirConnector(), data)
