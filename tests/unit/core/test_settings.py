from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import ConfigurationError
from services.cli.config import docs_table
from services.core.settings import Settings, load_settings

README = Path(__file__).resolve().parents[3] / "README.md"


def test_defaults_mean_the_embedded_broker_with_short_group_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    settings = Settings()
    assert settings.embedded
    assert settings.data_dir == Path(".hubnet")
    assert settings.kafka_python_consumer_timing()["max_poll_interval_ms"] == 5000


def test_kafka_bootstrap_servers_is_read_without_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    settings = Settings()
    assert not settings.embedded
    assert settings.kafka_python_consumer_timing()["max_poll_interval_ms"] == 300_000


def test_sasl_settings_flow_to_kafka_python_and_faust(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBNET_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("HUBNET_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("HUBNET_KAFKA_SASL_USERNAME", "identity")
    monkeypatch.setenv("HUBNET_KAFKA_SASL_PASSWORD", "s3cret")
    settings = Settings()
    assert settings.kafka_python_security() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "identity",
        "sasl_plain_password": "s3cret",
    }
    credentials = settings.faust_options("k1:9092,k2:9092")["broker_credentials"]
    assert credentials.username == "identity"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert "s3cret" not in repr(settings)


def test_faust_options_name_every_broker() -> None:
    options = Settings(KAFKA_BOOTSTRAP_SERVERS="k1:9092,k2:9092").faust_options("k1:9092,k2:9092")
    assert options["broker"] == "kafka://k1:9092;kafka://k2:9092"
    assert options["broker_max_poll_interval"] == 300.0


def test_incomplete_sasl_is_a_configuration_error_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUBNET_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ConfigurationError, match="HUBNET_KAFKA_SASL_USERNAME"):
        load_settings()


def test_bad_value_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBNET_LOG_FORMAT", "xml")
    with pytest.raises(ConfigurationError, match="log_format"):
        load_settings()


def test_readme_documents_every_setting_exactly() -> None:
    assert docs_table() in README.read_text(), (
        "README configuration table is stale: paste `hubnet config docs`"
    )


def test_the_embedded_profile_keeps_short_group_timing_with_an_explicit_address() -> None:
    """`hubnet up` hands its children the embedded broker's address; the timing must stay short."""
    settings = Settings(KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092", broker_profile="embedded")
    assert settings.embedded
    assert settings.kafka_python_consumer_timing()["max_poll_interval_ms"] == 5000
    assert settings.faust_options("127.0.0.1:9092")["broker_rebalance_timeout"] == 5.0
    assert not Settings(KAFKA_BOOTSTRAP_SERVERS="k1:9092").embedded


def test_stream_workers_use_the_short_fetch_transport_only_on_the_embedded_broker(tmp_path: Path) -> None:
    from services.streams.app import create_app

    embedded = create_app(
        "t", Settings(KAFKA_BOOTSTRAP_SERVERS="h:1", data_dir=tmp_path, broker_profile="embedded"), "h:1"
    )
    kafka = create_app("t", Settings(KAFKA_BOOTSTRAP_SERVERS="h:1", data_dir=tmp_path), "h:1")
    assert type(embedded.transport).__module__ == "services.streams.transport"
    assert type(kafka.transport).__module__ == "faust.transport.drivers.aiokafka"


OIDC = {
    "HUBNET_OIDC_CLIENT_ID": "hubnet",
    "HUBNET_OIDC_REDIRECT_URL": "https://hub.county.example/sign-in/oidc/callback",
    "HUBNET_OIDC_CLAIM_MAP": "county.toml",
}


@pytest.mark.parametrize(
    "issuer",
    [
        "login.microsoftonline.com/tenant/v2.0",  # no scheme
        "http://login.example/v2.0",  # plain http off loopback: tokens and codes in the clear
        "https://login.example/v2.0?tenant=x",
        "https://login.example/v2.0#x",
        "https:///v2.0",
    ],
)
def test_a_malformed_oidc_issuer_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, issuer: str
) -> None:
    for name, value in {**OIDC, "HUBNET_OIDC_ISSUER": issuer}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=r"HUBNET_OIDC_ISSUER '.*' is not an issuer URL"):
        load_settings()


@pytest.mark.parametrize("issuer", ["https://login.example/tenant/v2.0", "http://127.0.0.1:9000"])
def test_an_https_issuer_or_a_loopback_provider_is_accepted(
    monkeypatch: pytest.MonkeyPatch, issuer: str
) -> None:
    for name, value in {**OIDC, "HUBNET_OIDC_ISSUER": issuer}.items():
        monkeypatch.setenv(name, value)
    assert load_settings().oidc_issuer == issuer


def test_oidc_scopes_without_openid_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**OIDC, "HUBNET_OIDC_ISSUER": "https://login.example/v2.0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUBNET_OIDC_SCOPES", "profile openidx")
    with pytest.raises(ConfigurationError, match="HUBNET_OIDC_SCOPES 'profile openidx' lacks openid"):
        load_settings()
