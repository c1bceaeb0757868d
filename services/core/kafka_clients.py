"""kafka-python clients built from the settings object, so security and timing are set in one place."""

from __future__ import annotations

from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from services.core.settings import Settings

CLIENT_ID = "hubnet"


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
