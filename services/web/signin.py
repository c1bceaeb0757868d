"""Checking a local account's password, for the sign-in page and for HTTP Basic on the API alike:
throttled per account and per client address, with a lockout, and every refusal audited.

Why both subjects: a per-account limit alone lets one address try a password on every account; a
per-address limit alone lets a botnet guess one account's password. The address limit is higher,
since a hub office shares one address. An attempt on a locked subject is refused without looking
at the password, and the answer is the same whether the account exists or not. Audit records
(`staff.sign-in`, to the timeline store and fh.audit like every refusal) name a known account,
never a typed name that matches none (people type passwords there), with the door and address.
A session that starts (password or OpenID) or is signed out is audited the same way, as allowed
`staff.sign-in` and `staff.sign-out`: the user name and role every later read is audited under,
the door and the address, nothing from the provider's token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from schemas.audit import AuditRecord
from services.core.settings import Settings
from services.timeline.audit import AuditTrail
from services.timeline.policy import Role
from services.timeline.users import Principal, UserStore
from services.web.proxy import Network
from services.web.signin_store import Limit, SignInStore

Door = Literal["sign-in page", "HTTP Basic", "OpenID provider"]
WRONG = "Enter a correct user name and password"
UNKNOWN_ACTOR = "unknown-user"


def account_subject(username: str) -> str:
    """The throttle subject of an account, however its name was typed (case, spaces)."""
    return f"user:{username.strip().casefold()}"


@dataclass(frozen=True)
class SessionRules:
    """The session and sign-in settings the staff app enforces (from `Settings`; defaults for tests)."""

    absolute_s: float = 8 * 3600.0
    idle_s: float = 30 * 60.0
    max_failures: int = 5
    max_failures_per_address: int = 20
    lockout_s: float = 15 * 60.0
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionRules:
        return cls(
            absolute_s=settings.session_absolute_hours * 3600,
            idle_s=settings.session_idle_minutes * 60,
            max_failures=settings.signin_max_failures,
            max_failures_per_address=settings.signin_max_failures_per_address,
            lockout_s=settings.signin_lockout_minutes * 60,
            trusted_proxies=settings.trusted_proxy_networks(),
        )


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in failed, as the user is told: status (401 wrong, 429 locked) and a sentence."""

    status: int
    message: str
    retry_after_s: int = 0


class SignInGuard:
    """Password checks with throttling, lockout and audit; the one door to `UserStore.authenticate`."""

    def __init__(self, users: UserStore, store: SignInStore, audit: AuditTrail, rules: SessionRules) -> None:
        self.users = users
        self.store = store
        self.audit = audit
        self.rules = rules

    def attempt(self, username: str, password: str, address: str, door: Door) -> Principal | Refusal:
        """The principal, or a refusal (audited) when locked out or the password is wrong."""
        now = time.time()
        account, origin = account_subject(username), f"address:{address}"
        wait = self.store.locked_for([account, origin], now)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            self._audit(username, f"locked out after repeated failed sign-ins ({door}, client {address})")
            return Refusal(
                429,
                f"Too many failed sign-ins for this account or from this address. Try again in {minutes} "
                "minute(s), or ask your hub manager to check the account.",
                int(wait) + 1,
            )
        who = self.users.authenticate(username.strip(), password)
        if who is None:
            self.store.fail(
                {
                    account: Limit(self.rules.max_failures, self.rules.lockout_s),
                    origin: Limit(self.rules.max_failures_per_address, self.rules.lockout_s),
                },
                now,
            )
            self._audit(username, f"wrong user name or password ({door}, client {address})")
            return Refusal(401, WRONG)
        self.store.clear(account)
        return who

    def signed_in(self, who: Principal, door: Door, address: str) -> None:
        """A session started: audited as an allowed sign-in (HTTP Basic, a check on every
        request, starts none and is audited by what it reads)."""
        self._allowed(who.username, who.role, "staff.sign-in", f"signed in ({door}, client {address})")

    def signed_out(self, username: str, role: Role | None, address: str) -> None:
        """A session ended at the user's request (`role` None when the account is gone since)."""
        self._allowed(username, role, "staff.sign-out", f"signed out (client {address})")

    def _allowed(self, username: str, role: Role | None, action: str, reason: str) -> None:
        self.audit.write(
            AuditRecord(
                actor=username, actor_role=role.value if role else None, action=action,
                target=username, outcome="allowed", reason=reason,
            )
        )  # fmt: skip

    def _audit(self, username: str, reason: str) -> None:
        known = self.users.get(username.strip())
        self.audit.write(
            AuditRecord(
                actor=known.username if known else UNKNOWN_ACTOR,
                actor_role=known.role.value if known else None,
                action="staff.sign-in",
                target=known.username if known else None,
                outcome="denied",
                reason=reason if known else f"{reason}; no such account",
            )
        )
