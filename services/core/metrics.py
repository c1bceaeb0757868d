"""Prometheus metrics every hubnet process exposes on `/metrics`.

Declared once here so names and labels are the same in every service, in the alert rules and in
the Grafana dashboard (deploy/). Labels carry partner codes, connector and stage names: never
personal data.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

INPUTS_RECEIVED = Counter(
    "hubnet_inputs_received_total",
    "Partner inputs (messages, files, request bodies) given to a connector.",
    ["connector", "partner"],
)
EVENTS_ACCEPTED = Counter(
    "hubnet_events_accepted_total",
    "Hub events produced by connectors and queued for fh.events.",
    ["connector", "partner"],
)
RECORDS_REJECTED = Counter(
    "hubnet_records_rejected_total", "Partner records dead-lettered to fh.dlq.", ["connector", "partner"]
)
MESSAGES_DELIVERED = Counter(
    "hubnet_messages_delivered_total", "Messages the broker acknowledged.", ["topic"]
)
OUTBOX_BACKLOG = Gauge("hubnet_outbox_backlog", "Messages waiting in the local outbox for the broker.")
STAGE_SECONDS = Histogram(
    "hubnet_stage_seconds", "Processing time per stage and record.", ["stage"], buckets=LATENCY_BUCKETS
)
END_TO_END_SECONDS = Histogram(
    "hubnet_end_to_end_seconds",
    "From ingested-at to the stage named (e.g. projected).",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "hubnet_consumer_lag", "End offset minus committed offset.", ["group", "topic", "partition"]
)
DEAD_LETTERS_OPEN = Gauge(
    "hubnet_dead_letters_open", "Dead letters neither replayed nor discarded.", ["partner"]
)
PARTNER_LAST_EVENT = Gauge(
    "hubnet_partner_last_event_timestamp_seconds",
    "When a partner's last input arrived (Unix time).",
    ["partner"],
)
PARTNER_EXPECTED_INTERVAL = Gauge(
    "hubnet_partner_expected_interval_seconds",
    "How often a partner is expected to send; silence past it alerts.",
    ["partner"],
)
REFERRAL_SLA_BREACHES = Counter(
    "hubnet_referral_sla_breaches_total", "Referrals not accepted within their SLA.", ["district", "service"]
)
TRANSIENT_RETRIES = Counter(
    "hubnet_transient_retries_total",
    "Units of work rolled back and retried after a transient error (a lock held by another process, "
    "a lost connection, a retriable broker error).",
    ["worker"],
)
WORKER_STALLED = Gauge(
    "hubnet_worker_stalled",
    "1 while a stream worker holds messages and has committed nothing for HUBNET_WORKER_STALL_AFTER_S.",
    ["worker"],
)
WORKER_LAST_PROGRESS = Gauge(
    "hubnet_worker_last_progress_timestamp_seconds",
    "When a stream worker last committed a unit of work (Unix time).",
    ["worker"],
)
SERVICE_RESTARTS = Gauge(
    "hubnet_service_restarts", "Times `hubnet up` has restarted this service (dead or stalled).", ["service"]
)
UP = Gauge("hubnet_up", "1 while the process runs.", ["service"])
READY = Gauge("hubnet_ready", "1 when the last readiness check passed.", ["service"])
BUILD = Info("hubnet_build", "hubnet version.")
