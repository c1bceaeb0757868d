"""Make the broker's topics match the catalogue in `schemas/topics.toml`.

`apply` is idempotent: it creates what is missing and never deletes or shrinks anything; where a
topic exists but differs (fewer partitions, other retention), it reports drift for a person to fix,
because changing partitions of a keyed topic reorders keys and is a decision, not a side effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError

from schemas.topics import Catalogue, TopicSpec


@dataclass
class TopicReport:
    """What `apply` or `check` found, topic by topic."""

    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    drift: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.drift


def _replication(admin: KafkaAdminClient) -> int:
    """Replication factor 3 where the cluster has the brokers for it, else one per broker."""
    brokers = len(admin.describe_cluster().get("brokers", [])) or 1
    return min(3, brokers)


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names) if not t.get("error_code")}


def _config_drift(admin: KafkaAdminClient, spec: TopicSpec) -> list[str]:
    """Differences in the configs the broker reports; brokers that report none show no drift."""
    resources = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name)])
    reported: dict[str, str] = {}
    for response in resources if isinstance(resources, list) else [resources]:
        for result in getattr(response, "resources", []) or []:
            for entry in result[4] if isinstance(result, tuple) else getattr(result, "configs", []):
                name, value = (entry[0], entry[1]) if isinstance(entry, tuple) else (entry.name, entry.value)
                reported[name] = value
    return [
        f"{key} is {reported[key]}, catalogue says {want}"
        for key, want in spec.configs().items()
        if key in reported and reported[key] != want
    ]


def check(admin: KafkaAdminClient, catalogue: Catalogue) -> TopicReport:
    """Compare the broker with the catalogue without changing anything."""
    existing = set(admin.list_topics())
    report = TopicReport()
    present = [t.name for t in catalogue.topic if t.name in existing]
    counts = _partition_counts(admin, present)
    for spec in catalogue.topic:
        if spec.name not in existing:
            report.missing.append(spec.name)
            continue
        report.present.append(spec.name)
        problems = []
        if counts.get(spec.name, spec.partitions) < spec.partitions:
            problems.append(f"has {counts[spec.name]} partitions, catalogue says {spec.partitions}")
        problems += _config_drift(admin, spec)
        if problems:
            report.drift[spec.name] = problems
    return report


def apply(admin: KafkaAdminClient, catalogue: Catalogue) -> TopicReport:
    """Create missing topics; a second run creates nothing and reports the same topics present."""
    report = check(admin, catalogue)
    replication = _replication(admin)
    to_create = [spec for spec in catalogue.topic if spec.name in report.missing]
    for spec in to_create:
        try:
            admin.create_topics(
                [NewTopic(spec.name, spec.partitions, replication, topic_configs=spec.configs())]
            )
        except TopicAlreadyExistsError:
            report.present.append(spec.name)  # another process created it between check and create
            continue
        report.created.append(spec.name)
    report.missing = []
    return report
