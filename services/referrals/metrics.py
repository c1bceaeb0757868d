"""Referral metrics (Prometheus), beside the shared ones in services/core/metrics.py.

Labels are hub area names from the county pack (the label is still called `district`, which the
dashboards and alert rules name; in the demo county the hub areas are the districts) and service
ids (never offer ids, people or families), so the number of series stays small: a dozen hub areas
x a few dozen services. The SLA breach counter is the shared
`hubnet_referral_sla_breaches_total`, which the alert rules in deploy/ already watch.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.core.metrics import REFERRAL_SLA_BREACHES

WORKING_HOUR_BUCKETS = (0.5, 1, 2, 4, 8, 16, 24, 40, 80, 160)
DAY_BUCKETS = (1, 3, 7, 14, 28, 56, 91, 182, 365)

RECEIVED = Counter(
    "hubnet_referrals_received_total", "Referral requests received, by home district.", ["district"]
)
ROUTED = Counter(
    "hubnet_referrals_routed_total",
    "Referrals sent to a service (every attempt, re-routes included).",
    ["district", "service"],
)
REROUTES = Counter(
    "hubnet_referral_reroutes_total",
    "Referrals declined by a service and routed again.",
    ["district", "service"],
)
ESCALATIONS = Counter(
    "hubnet_referral_escalations_total",
    "Referrals put in front of a hub manager: no service left, consent awaited, or SLA missed.",
    ["district", "reason"],
)
LINKED = Counter(
    "hubnet_referrals_linked_total",
    "Referrals joined to an open one for the same family and need.",
    ["district"],
)
TIME_TO_ACCEPT = Histogram(
    "hubnet_referral_time_to_accept_working_hours",
    "Working hours from a service being asked to it accepting.",
    ["district", "service"],
    buckets=WORKING_HOUR_BUCKETS,
)
TIME_TO_COMPLETE = Histogram(
    "hubnet_referral_time_to_complete_days",
    "Days from the referral arriving to the service completing it.",
    ["district", "service"],
    buckets=DAY_BUCKETS,
)

__all__ = [
    "ESCALATIONS",
    "LINKED",
    "RECEIVED",
    "REFERRAL_SLA_BREACHES",
    "REROUTES",
    "ROUTED",
    "TIME_TO_ACCEPT",
    "TIME_TO_COMPLETE",
]
