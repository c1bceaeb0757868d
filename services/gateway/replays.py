"""The replay door: an operator sending records again as the partner they came from.

`hubnet dlq replay` (dead letters after a mapping fix) and `hubnet replay` (a generated county)
are not partners, yet what they send becomes that partner's events. So they say so: a replay
names its operator, and the first record it sends as each partner writes an audit record
(`events.replay`, actor the operator, target `partner:<code>`). Then every record goes through
the gateway's one ingest step as that partner (`Gateway.receive`): a revoked or unknown partner, a
format or event type not registered to it, a sender that is not its own, an input over the size
limit, a changed resend, are refused as they would be at any other door (and audited). Replays
are paced by the operator (`--rate`), so the partner's rate limit does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.base import SourceContext
from schemas.audit import AuditRecord
from services.core.audit import audit_message
from services.gateway.partners import Partner
from services.gateway.service import Gateway
from services.gateway.submission import SubmissionResult

ACTION = "events.replay"


class ReplayDoor:
    """Records sent again by `operator`, each as the partner it came from."""

    def __init__(self, gateway: Gateway, operator: str, purpose: str) -> None:
        self._gateway = gateway
        self._operator = operator
        self._purpose = purpose
        self._announced: set[str] = set()

    def send(self, partner: str, fmt: str, data: bytes, ctx: SourceContext) -> SubmissionResult:
        """Through the one ingest step as `partner`; raises what `Gateway.receive` raises."""
        self._announce(partner, ctx.trace_id)
        return self._gateway.receive(partner, fmt, data, ctx, paced=True)

    def check(self, partner: str, fmt: str, data: bytes, ctx: SourceContext) -> SubmissionResult:
        """Every check of `send`, nothing published (refusals are still audited)."""
        self._announce(partner, ctx.trace_id)
        admitted = self._gateway.admit(partner, fmt, ctx.trace_id, paced=True)
        self._gateway.check_size(admitted, len(data), fmt, ctx.trace_id)
        return self._gateway.submissions.submit(admitted, fmt, data, ctx, publish=False)

    def _announce(self, partner: str, trace_id: str) -> None:
        if partner in self._announced:
            return
        self._announced.add(partner)
        record = AuditRecord(
            actor=self._operator, actor_role="operations", action=ACTION, target=f"partner:{partner}",
            outcome="allowed", reason=f"{self._purpose}, sent as partner {partner}", trace_id=trace_id,
        )  # fmt: skip
        self._gateway.submissions.audit(audit_message(record))


def register_missing(
    gateway: Gateway, partners: Iterable[Partner], operator: str, purpose: str
) -> list[Partner]:
    """Register the partners a replay of synthetic data sends as, when they are missing (each
    registration audited, by `operator`); keep the others as they are (a revoked one stays
    revoked). Returns the ones registered. No API key is shown: a replay needs none."""
    added = []
    for partner in partners:
        if gateway.partners.find(partner.code) is not None:
            continue
        gateway.partners.add(partner)
        gateway.submissions.audit(audit_message(AuditRecord(
            actor=operator, actor_role="operations", action="partners.add", target=f"partner:{partner.code}",
            outcome="allowed", reason=f"synthetic partner registered for {purpose}",
        )))  # fmt: skip
        added.append(partner)
    return added
