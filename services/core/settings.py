"""The one configuration object, read from the environment at start-up, never at import.

Every variable is documented in the README table, which a unit test checks against this class
(`hubnet config docs` prints the table).
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.errors import ConfigurationError

WORKER_MAX_POLL_RECORDS = 500
"""Records one faust poll may return: a worker batch (BATCH_SIZE in services/*/worker.py)."""

MIN_SECRET = 32
"""Shortest session-signing secret accepted (characters): 32 hex digits carry 128 bits."""

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class Settings(BaseSettings):
    """hubnet settings. Unset `KAFKA_BOOTSTRAP_SERVERS` means: use the embedded broker."""

    model_config = SettingsConfigDict(env_prefix="HUBNET_", extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "HUBNET_KAFKA_BOOTSTRAP_SERVERS"),
        description="Kafka brokers, host:port comma-separated. Unset: hubnet starts its embedded broker.",
    )
    data_dir: Path = Field(
        default=Path(".hubnet"), description="Where stores, the outbox and run files live."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="json, console, or auto: console on a terminal, JSON otherwise."
    )
    broker_port: int | None = Field(
        default=None, ge=1, le=65535, description="Port of the embedded broker. Unset: a free port."
    )
    health_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port for /healthz, /readyz and /metrics of a stream worker.",
    )
    county_poll_s: float = Field(
        default=10.0,
        gt=0,
        description="How often workers ask the county store for a newer county pack (`hubnet county load`).",
    )
    ingest_host: str = Field(default="127.0.0.1", description="Address the partner ingestion API listens on.")
    ingest_port: int = Field(default=8080, ge=1, le=65535, description="Port of the partner ingestion API.")
    ingest_max_body_mib: float = Field(
        default=10.0, gt=0, description="Largest request body, MiB (413 above)."
    )
    ingest_rate_per_s: float = Field(
        default=20.0, gt=0, description="Requests per second per partner (429 above)."
    )
    ingest_burst: int = Field(default=40, ge=1, description="Requests a partner may send at once.")
    mllp_idle_timeout_s: float = Field(
        default=60.0, gt=0, description="An MLLP connection silent (or mid-frame) this long is closed."
    )
    mllp_max_connections: int = Field(
        default=16, ge=1, description="MLLP connections one listener holds at once; more are closed at once."
    )
    ingest_max_records: int = Field(
        default=10_000,
        ge=1,
        description="Most records one input (request, dropped file) may hold; 413 above: split the file.",
    )
    ingest_max_record_mib: float = Field(
        default=16.0,
        gt=0,
        description="Most MiB the records cut from one input may add up to (a CSV row counts its header).",
    )
    ingest_max_nodes: int = Field(
        default=300_000,
        ge=1,
        description=(
            "Most JSON objects and arrays, XML elements or HL7 v2 segments one input may hold; "
            "413 above (MLLP: AR)."
        ),
    )
    ingest_max_errors: int = Field(
        default=100,
        ge=1,
        description="Rejected records an answer lists with their reason; the rest are counted.",
    )
    broker_profile: Literal["auto", "embedded", "kafka"] = Field(
        default="auto",
        description=(
            "Which broker timing to use: embedded (Tansu: group joins wait max.poll.interval, so it is "
            "kept to seconds) or kafka. auto: embedded when KAFKA_BOOTSTRAP_SERVERS is unset."
        ),
    )
    consumer_max_poll_interval_s: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Consumer max.poll.interval (seconds). Unset: 5 on the embedded broker, whose group joins "
            "wait this long, and 300 on Kafka."
        ),
    )
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        default=None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with a SASL protocol)."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SASL password (never logged).")
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA bundle that signed the brokers' certificates."
    )
    kafka_ssl_certfile: Path | None = Field(default=None, description="Client certificate for mutual TLS.")
    kafka_ssl_keyfile: Path | None = Field(default=None, description="Client private key for mutual TLS.")
    database_url: str | None = Field(
        default=None,
        description=(
            "postgresql://user@host:port/db: every store on this PostgreSQL database (one schema per "
            "store). Unset: SQLite files in the data dir. Put the password in HUBNET_DATABASE_PASSWORD."
        ),
    )
    database_password: SecretStr | None = Field(
        default=None, description="PostgreSQL password (never logged); overrides one in the URL."
    )
    database_sslmode: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = Field(
        default="prefer",
        description="PostgreSQL TLS: disable, prefer, require, verify-ca or verify-full (production).",
    )
    database_sslrootcert: Path | None = Field(
        default=None, description="CA certificate that signed the PostgreSQL server's (verify-ca/full)."
    )
    database_schema_prefix: str = Field(
        default="hubnet",
        pattern=r"^[a-z][a-z0-9_]{0,30}$",
        description="PostgreSQL schemas are <prefix>_<store>: two installations can share a database.",
    )
    worker_stall_after_s: float = Field(
        default=120.0,
        gt=0,
        description="A stream worker holding messages with nothing committed for this long is stalled: "
        "/readyz and /healthz fail, hubnet status names it, hubnet up restarts it.",
    )
    restarts: int = Field(
        default=0,
        ge=0,
        description="Set by hubnet up on a service it restarted: how many times (shown by hubnet status).",
    )
    sqlite_busy_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a SQLite store waits for another process's write lock before the unit "
        "of work is rolled back and retried.",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs staff session cookies (never logged; at least 32 characters); every API "
            "replica needs the same one. Unset: a key per run on the embedded demo; required when "
            "KAFKA_BOOTSTRAP_SERVERS or HUBNET_DATABASE_URL is set."
        ),
    )
    session_absolute_hours: float = Field(
        default=8.0, gt=0, le=24, description="A staff session ends this long after sign-in, busy or not."
    )
    session_idle_minutes: float = Field(
        default=30.0, gt=0, description="A staff session ends after this long without a request."
    )
    signin_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins to one account before it is locked out for a while."
    )
    signin_max_failures_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins from one client address before it is locked out."
    )
    signin_lockout_minutes: float = Field(
        default=15.0, gt=0, description="How long a lockout lasts; failures are counted over this window."
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Reverse proxies (IP addresses or CIDR ranges, comma-separated) whose X-Forwarded-For and "
            "X-Forwarded-Proto the staff app believes: client address for sign-in throttling, and "
            "https for Secure cookies."
        ),
    )

    oidc_issuer: str | None = Field(
        default=None,
        description=(
            "Staff sign-in through this OpenID provider (its issuer URL; endpoints come from "
            "/.well-known/openid-configuration), e.g. https://login.microsoftonline.com/<tenant>/v2.0. "
            "Unset: local accounts only."
        ),
    )
    oidc_client_id: str | None = Field(default=None, description="hubnet's client id at the OpenID provider.")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="hubnet's client secret at the OpenID provider (never logged)."
    )
    oidc_scopes: str = Field(
        default="openid profile",
        description="Scopes asked for at sign-in (space-separated; openid is required).",
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="The sign-in callback as registered at the provider: "
        "https://<staff app>/sign-in/oidc/callback.",
    )
    oidc_claim_map: Path | None = Field(
        default=None,
        description="TOML file mapping token claims (groups, roles, ODS or team code) to hubnet roles, hub "
        "area ids and services: the county pack's county.toml (checked with its pack) or a file of its own "
        "(docs/county.md); required with HUBNET_OIDC_ISSUER.",
    )
    oidc_local_accounts: bool = Field(
        default=False,
        description="With HUBNET_OIDC_ISSUER set, local accounts (password sign-in, HTTP Basic) are off "
        "unless this is true (the demo, break-glass administration).",
    )

    @model_validator(mode="after")
    def _sasl_complete(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                "HUBNET_KAFKA_SECURITY_PROTOCOL uses SASL: set HUBNET_KAFKA_SASL_MECHANISM, "
                "HUBNET_KAFKA_SASL_USERNAME and HUBNET_KAFKA_SASL_PASSWORD"
            )
        return self

    @model_validator(mode="after")
    def _database_url_known(self) -> Settings:
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "HUBNET_DATABASE_URL must start with postgresql:// (unset it to use SQLite files)"
            )
        return self

    @model_validator(mode="after")
    def _session_secret_long_enough(self) -> Settings:
        if self.session_secret is not None and len(self.session_secret.get_secret_value()) < MIN_SECRET:
            raise ValueError(
                f"HUBNET_SESSION_SECRET must be at least {MIN_SECRET} characters; generate one with "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        return self

    @model_validator(mode="after")
    def _trusted_proxies_parse(self) -> Settings:
        self.trusted_proxy_networks()
        return self

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer:
            missing = [
                name for name, value in (
                    ("HUBNET_OIDC_CLIENT_ID", self.oidc_client_id),
                    ("HUBNET_OIDC_REDIRECT_URL", self.oidc_redirect_url),
                    ("HUBNET_OIDC_CLAIM_MAP", self.oidc_claim_map),
                ) if not value
            ]  # fmt: skip
            if missing:
                raise ValueError(f"HUBNET_OIDC_ISSUER is set: set {', '.join(missing)} too (docs/county.md)")
            _check_issuer(self.oidc_issuer)
            if "openid" not in self.oidc_scopes.split():
                raise ValueError(
                    f"HUBNET_OIDC_SCOPES {self.oidc_scopes!r} lacks openid, without which the provider "
                    'issues no ID token: e.g. "openid profile" (docs/county.md)'
                )
        return self

    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """`trusted_proxies` as networks; a bad entry is a `ValueError` naming it."""
        networks = []
        for item in (part.strip() for part in self.trusted_proxies.split(",")):
            if not item:
                continue
            try:
                networks.append(ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"HUBNET_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR range "
                    "(e.g. 10.0.0.0/8, 192.0.2.7)"
                ) from None
        return tuple(networks)

    @property
    def production(self) -> bool:
        """True when hubnet talks to a real Kafka or PostgreSQL: nothing may be made up per run."""
        return bool(self.kafka_bootstrap_servers or self.database_url)

    @property
    def embedded(self) -> bool:
        """True on the embedded broker, whose group protocol needs the short timing below."""
        if self.broker_profile == "auto":
            return not self.kafka_bootstrap_servers
        return self.broker_profile == "embedded"

    @property
    def max_poll_interval_s(self) -> float:
        if self.consumer_max_poll_interval_s is not None:
            return self.consumer_max_poll_interval_s
        return 5.0 if self.embedded else 300.0

    def kafka_python_security(self) -> dict[str, Any]:
        """Security options in kafka-python's spelling (producer, consumer and admin alike)."""
        options: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism:
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            options["sasl_plain_password"] = (
                self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None
            )
        for option, path in (
            ("ssl_cafile", self.kafka_ssl_cafile),
            ("ssl_certfile", self.kafka_ssl_certfile),
            ("ssl_keyfile", self.kafka_ssl_keyfile),
        ):
            if path:
                options[option] = str(path)
        return options

    def kafka_python_consumer_timing(self) -> dict[str, int]:
        """Group timing; on the embedded broker a join waits max.poll.interval, so keep it short."""
        poll_ms = int(self.max_poll_interval_s * 1000)
        session_ms = max(poll_ms + 1000, 6000) if self.embedded else 45000
        return {
            "max_poll_interval_ms": poll_ms,
            "session_timeout_ms": session_ms,
            "heartbeat_interval_ms": min(3000, session_ms // 3),
        }

    def faust_options(self, bootstrap: str) -> dict[str, Any]:
        """faust.App keyword options: broker URL, credentials, group timing for this broker, and
        how much one poll may return.

        A poll is capped at `WORKER_MAX_POLL_RECORDS` (faust's default is everything fetched, up
        to 1 MiB per partition: ~5,000 events over 12 partitions). faust polls again only once it
        has handed every record of the last poll to the stream, so a worker behind on a backlog
        went longer than `max_poll_interval_s` (5 s on the embedded broker) between polls, was
        dropped from its group and sat out a rejoin, then took the uncommitted batches again."""
        import ssl

        import faust

        options: dict[str, Any] = {
            "broker": ";".join(f"kafka://{host}" for host in bootstrap.split(",")),
            "broker_max_poll_interval": self.max_poll_interval_s,
            "broker_session_timeout": self.kafka_python_consumer_timing()["session_timeout_ms"] / 1000,
            "broker_heartbeat_interval": self.kafka_python_consumer_timing()["heartbeat_interval_ms"] / 1000,
            "broker_rebalance_timeout": self.max_poll_interval_s,
            "broker_max_poll_records": WORKER_MAX_POLL_RECORDS,
        }
        context = None
        if self.kafka_security_protocol in ("SSL", "SASL_SSL"):
            context = ssl.create_default_context(
                cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None
            )
            if self.kafka_ssl_certfile:
                context.load_cert_chain(
                    str(self.kafka_ssl_certfile), str(self.kafka_ssl_keyfile or "") or None
                )
        if self.kafka_sasl_mechanism and self.kafka_sasl_password:
            options["broker_credentials"] = faust.SASLCredentials(
                username=self.kafka_sasl_username,
                password=self.kafka_sasl_password.get_secret_value(),
                mechanism=self.kafka_sasl_mechanism,
                ssl_context=context,
            )
        elif context is not None:
            options["broker_credentials"] = faust.SSLCredentials(context)
        return options


def load_settings() -> Settings:
    """Read the environment; a bad value becomes a `ConfigurationError` naming the variable."""
    try:
        return Settings()
    except ValueError as error:
        raise ConfigurationError(f"invalid hubnet configuration: {error}") from None


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _check_issuer(issuer: str) -> None:
    """An OpenID issuer is an https URL with a host and no query or fragment (OpenID Connect
    Discovery 1.0, section 2); plain http only on loopback, for a provider under test."""
    url = urlsplit(issuer)
    secure = url.scheme == "https" or (url.scheme == "http" and url.hostname in _LOOPBACK)
    if not (secure and url.hostname) or url.query or url.fragment:
        raise ValueError(
            f"HUBNET_OIDC_ISSUER {issuer!r} is not an issuer URL: write it as the provider publishes it, "
            "https://<host>/<path> with no query or fragment, e.g. "
            "https://login.microsoftonline.com/<tenant id>/v2.0 (docs/county.md)"
        )
