"""kafka-python clients built from the settings object, so security and timing are set in one place.

Every record batch kafka-python writes carries a CRC-32C of the batch. kafka-python computes it with
the `crc32c` package when that imports (hubnet depends on `kafka-python[crc32c]`) and otherwise in
pure Python, ~170 µs per KB of batch on this machine: the largest single cost of the durable
publisher's network thread (issue #12, docs/proof.md). A producer built without it says so once.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from typing import Any

import structlog
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from services.core.settings import Settings

CLIENT_ID = "hubnet"
log = structlog.get_logger(__name__)


def checksums_in_c() -> bool:
    """Whether kafka-python finds the `crc32c` package it checksums record batches with."""
    return importlib.util.find_spec("crc32c") is not None


@cache
def warn_if_checksums_in_python() -> None:
    if not checksums_in_c():
        log.warning(
            "kafka.checksums_in_python",
            hint="kafka-python computes every record batch's CRC-32C in pure Python (~170 µs per KB); "
            "pip install crc32c (hubnet depends on it through kafka-python[crc32c])",
        )


def admin(settings: Settings, bootstrap: str, **overrides: Any) -> KafkaAdminClient:
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "client_id": f"{CLIENT_ID}-admin",
        "request_timeout_ms": 10000,
    }
    options.update(settings.kafka_python_security())
    options.update(overrides)
    return KafkaAdminClient(**options)


def producer(settings: Settings, bootstrap: str, **overrides: Any) -> KafkaProducer:
    """Durable by default: every in-sync replica acknowledges, idempotent, ordered per partition."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "client_id": f"{CLIENT_ID}-producer",
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 1,
        "compression_type": "gzip",
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "retries": 5,
        "request_timeout_ms": 10000,
        "delivery_timeout_ms": 30000,
    }
    options.update(settings.kafka_python_security())
    options.update(overrides)
    warn_if_checksums_in_python()
    return KafkaProducer(**options)


def consumer(settings: Settings, bootstrap: str, *topics: str, **overrides: Any) -> KafkaConsumer:
    """Group timing follows the settings: short on the embedded broker, whose joins wait for it."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "client_id": f"{CLIENT_ID}-consumer",
        "auto_offset_reset": "earliest",
        "enable_auto_commit": False,
    }
    options.update(settings.kafka_python_consumer_timing())
    options.update(settings.kafka_python_security())
    options.update(overrides)
    return KafkaConsumer(*topics, **options)
