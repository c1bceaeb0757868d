"""One rooted exception tree, so callers can catch hubnet faults apart from bugs.

Control-flow outcomes (a record rejected by a connector) are data, not exceptions, once they
leave a connector: see `connectors.base.Rejection`. These exceptions are what raises inside.
"""

from __future__ import annotations


class HubnetError(Exception):
    """Root of every error hubnet raises on purpose."""


class ConfigurationError(HubnetError):
    """Settings are missing or contradict each other; the message says which variable to fix."""


class MappingError(HubnetError):
    """A partner input cannot be mapped; carries where (field path, segment or line) and what to do."""

    def __init__(self, reason: str, location: str | None = None, hint: str | None = None) -> None:
        self.reason = reason
        self.location = location
        self.hint = hint
        super().__init__(self.describe())

    def describe(self) -> str:
        """Plain-English sentence for partners: location first, then reason, then what to do."""
        text = f"{self.location}: {self.reason}" if self.location else self.reason
        return f"{text} ({self.hint})" if self.hint else text


class ValidationError(MappingError):
    """The mapped resources do not satisfy the FHIR model or a hub rule (check digit, date order)."""


class AuthorisationError(HubnetError):
    """The caller may not do this: publish as another partner, read a restricted entry."""


class TransportError(HubnetError):
    """The broker, store or network failed; retrying later may succeed."""


class BrokerUnavailableError(TransportError):
    """No Kafka-protocol broker answered at the configured address."""
