"""`hubnet schemas export`: write the published contracts from the code that defines them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from schemas.county import CountyPack
from schemas.dead_letter import DeadLetter
from schemas.event_types import code_system
from schemas.topics import catalogue
from schemas.wire import HubEventBundle

app = typer.Typer(
    help="Published contracts: JSON Schemas and the hub event CodeSystem.", no_args_is_help=True
)
REPO = Path(__file__).resolve().parents[2]
TOPICS_HEADER = (
    "# Generated from schemas/topics.toml by `hubnet schemas export`: edit the catalogue, not this file.\n"
)


def contracts() -> dict[str, str]:
    """Path from the repository root -> content; a unit test checks the committed files equal these."""
    return {
        "schemas/fhir/CodeSystem-hub-event-type.json": _json(code_system()),
        "schemas/json/hub-event-bundle.schema.json": _json(HubEventBundle.model_json_schema()),
        "schemas/json/dead-letter.schema.json": _json(DeadLetter.model_json_schema()),
        "schemas/json/county-pack.schema.json": _json(CountyPack.model_json_schema()),
        "deploy/k8s/base/topics.yaml": TOPICS_HEADER + yaml.safe_dump_all(kafka_topics(), sort_keys=False),
    }


def kafka_topics() -> list[dict[str, Any]]:
    """Strimzi KafkaTopic resources for the catalogue: replication 3, min ISR 2."""
    return [
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaTopic",
            "metadata": {"name": spec.name.replace("_", "-"), "labels": {"strimzi.io/cluster": "hubnet"}},
            "spec": {
                "topicName": spec.name,
                "partitions": spec.partitions,
                "replicas": 3,
                "config": {**spec.configs(), "min.insync.replicas": "2"},
            },
        }
        for spec in catalogue().topic
    ]


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="Repository root to write into.")] = REPO,
) -> None:
    """Regenerate the CodeSystem, JSON Schemas and Kubernetes topics partners and operators build against."""
    for relative, content in contracts().items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        typer.echo(f"wrote {path}")
