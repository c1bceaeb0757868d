"""kafka-python's record batch checksums: computed by the crc32c package, equal to kafka-python's
own pure-Python CRC-32C, and a producer built without the package says so once."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator

import crc32c
import pytest
from kafka.record import _crc32c, util

from services.core import kafka_clients
from services.core.logging import configure_logging
from services.core.settings import Settings


def test_kafka_python_checksums_record_batches_with_the_crc32c_package() -> None:
    assert kafka_clients.checksums_in_c()
    assert util.crc32c_c is crc32c.crc32c


def test_the_checksum_is_crc32c_and_the_same_as_kafka_pythons_own() -> None:
    assert util.calc_crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720, B.4)
    draw = random.Random(12)
    for size in (0, 1, 7, 8, 9, 63, 64, 65, 1000, 4099):
        data = bytearray(draw.randbytes(size))
        view = memoryview(data)[size // 3 :]  # as DefaultRecordBatchBuilder hands it over
        assert util.calc_crc32c(view) == _crc32c.crc(view)


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="INFO"), stream=stream)
    kafka_clients.warn_if_checksums_in_python.cache_clear()
    yield stream
    kafka_clients.warn_if_checksums_in_python.cache_clear()


def _events(stream: io.StringIO) -> list[str]:
    return [json.loads(line)["event"] for line in stream.getvalue().splitlines()]


def test_without_the_crc32c_package_a_warning_says_how_to_get_it_once(
    log_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka_clients, "checksums_in_c", lambda: False)
    kafka_clients.warn_if_checksums_in_python()
    kafka_clients.warn_if_checksums_in_python()
    assert _events(log_stream) == ["kafka.checksums_in_python"]
    assert "pip install" in json.loads(log_stream.getvalue())["hint"]


def test_with_the_crc32c_package_nothing_is_said(log_stream: io.StringIO) -> None:
    kafka_clients.warn_if_checksums_in_python()
    assert _events(log_stream) == []
