"""The hub staff account a command acts as (`--by USER`), for doors without a web sign-in
(`hubnet identity review`, `hubnet consent`): the same rules as the web UI, the same audit trail.

The account must be active (`hubnet users add`, or a county sign-in account recorded there): a
name typed on the command line that is nobody's account acts for nobody. Each attempt is audited
under the account in the audit store (`hubnet audit`), allowed or refused, refusals with the
reason the rule gave, which is also what the command prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from schemas.audit import AuditRecord
from services.cli.runtime import fail
from services.core.settings import Settings
from services.timeline.access import TimelineAccess
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.store import TimelineStore
from services.timeline.users import Principal, UserStore


@dataclass(frozen=True)
class Acting:
    """A command's staff account and the timeline reads its rules consult."""

    who: Principal
    access: TimelineAccess

    def check(self, action: str, target: str | None, refusal: str | None, note: str | None = None) -> None:
        """Audit the attempt; a refusal ends the command with its reason (exit status 2). `note`
        is kept on an allowed record (e.g. how many were listed)."""
        if refusal:
            self.refuse(action, target, refusal)
        self.access.audit.record(self.who, action, target, "allowed", note)

    def refuse(self, action: str, target: str | None, why: str) -> NoReturn:
        """Audit the refused attempt and end the command with why (exit status 2)."""
        self.access.audit.record(self.who, action, target, "denied", why)
        fail(why)


@contextmanager
def acting_as(
    settings: Settings, username: str, action: str, target: str | None, audit_file: Path | None = None
) -> Iterator[Acting]:
    """The active account `username`, or the command ends (audited as `action` on `target`, in
    `audit_file` when the command names one, else the settings' audit store)."""
    audit = AuditStore.from_settings(settings, audit_file)
    users = UserStore.from_settings(settings)
    timeline = TimelineStore.from_settings(settings)
    try:
        trail = AuditTrail(audit)
        who = users.get(username)
        if who is None:
            _refuse_unknown(trail, username, action, target)
        yield Acting(who, TimelineAccess(timeline, trail))
    finally:
        timeline.close()
        users.close()
        audit.close()


def _refuse_unknown(trail: AuditTrail, username: str, action: str, target: str | None) -> NoReturn:
    why = f"'{username}' is not an active hub staff account: act as your own account (`hubnet users list`)"
    trail.write(AuditRecord(actor=username, actor_role="unknown", action=action, target=target,
                            outcome="denied", reason=why))  # fmt: skip
    fail(why)
