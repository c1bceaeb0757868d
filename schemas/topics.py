"""Typed view of the topic catalogue in `topics.toml`, the one place topics are declared."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CATALOGUE_PATH = Path(__file__).with_name("topics.toml")

EVENTS = "fh.events"
LINKED = "fh.linked"
REFERRALS = "fh.referrals"
DLQ = "fh.dlq"
DLQ_STATUS = "fh.dlq.status"
AUDIT = "fh.audit"
DIRECTORY = "fh.directory"
HEARTBEATS = "fh.heartbeats"


class TopicSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-zA-Z0-9._-]+$")
    partitions: int = Field(ge=1)
    retention_ms: int = Field(ge=-1)
    cleanup_policy: Literal["delete", "compact", "compact,delete"]
    key: str
    purpose: str

    def configs(self) -> dict[str, str]:
        """Kafka topic configs as the admin API takes them."""
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}


class Catalogue(BaseModel):
    topic: list[TopicSpec]

    def names(self) -> list[str]:
        return [t.name for t in self.topic]


@cache
def catalogue() -> Catalogue:
    return Catalogue.model_validate(tomllib.loads(CATALOGUE_PATH.read_text()))
