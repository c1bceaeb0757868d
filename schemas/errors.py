"""One rooted exception tree, so callers can catch hubnet faults apart from bugs.

Control-flow outcomes (a record rejected by a connector) are data, not exceptions, once they
leave a connector: see `connectors.base.Rejection`. These exceptions are what raises inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class HubnetError(Exception):
    """Root of every error hubnet raises on purpose."""


class ConfigurationError(HubnetError):
    """Settings are missing or contradict each other; the message says which variable to fix."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: where (`Patient.identifier[0].value`, `line 4, column dob`) and
    why, in a partner's words. A record's rejection carries all of them (connectors/common/problems.py)."""

    path: str
    reason: str


class MappingError(HubnetError):
    """A partner input cannot be mapped; carries where (field path, segment or line) and what to do.

    `problems` lists each problem when there are several (the reason then summarises them all);
    `count` is how many there were, when only the first of them are kept."""

    def __init__(
        self,
        reason: str,
        location: str | None = None,
        hint: str | None = None,
        problems: Sequence[Problem] = (),
        count: int = 1,
    ) -> None:
        self.reason = reason
        self.location = location
        self.hint = hint
        self.problems = tuple(problems)
        self.count = max(count, len(self.problems))
        super().__init__(self.describe())

    def describe(self) -> str:
        """Plain-English sentence for partners: location first, then reason, then what to do."""
        text = f"{self.location}: {self.reason}" if self.location else self.reason
        return f"{text} ({self.hint})" if self.hint else text


class NotAPersonRecordError(MappingError):
    """A side entry: the part of an input describes no person (a directory resource, a server's
    OperationOutcome), so it has no place on a timeline. Refused like any record, but a batch whose
    person records all converted has still done its job (`hubnet convert` exits 0)."""


class ValidationError(MappingError):
    """The mapped resources do not satisfy the FHIR model or a hub rule (check digit, date order)."""


class InputLimitError(HubnetError):
    """An input as a whole exceeds what one submission may cost (records, bytes): refused before any
    record is mapped, nothing queued; the message says the cap and what to do (split the file)."""

    def __init__(self, reason: str, hint: str) -> None:
        self.reason = reason
        self.hint = hint
        super().__init__(f"{reason} ({hint})")


class AuthorisationError(HubnetError):
    """The caller may not do this: publish as another partner, read a restricted entry."""


class OwnershipError(MappingError, AuthorisationError):
    """A record names a source system or organisation that is not the sending partner's own: it
    would create, change or retract another partner's record. Refused (audited), never mapped, and
    caught before `MappingError` by whoever turns errors into outcomes (`Connector.convert`)."""


class TransportError(HubnetError):
    """The broker, store or network failed; retrying later may succeed."""


class BrokerUnavailableError(TransportError):
    """No Kafka-protocol broker answered at the configured address."""
