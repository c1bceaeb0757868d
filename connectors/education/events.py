"""Assemble hub events for one pupil record: every event carries the pupil's Patient, so the
references inside it resolve, and every resource is validated once before it leaves the connector."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import SourceContext
from connectors.common.fhir_time import at_midnight
from connectors.common.fhir_validation import validate_resource
from connectors.common.record_events import PersonEvents, RecordEvents
from connectors.education.pupil import Pupil, patient_resource
from schemas.envelope import HubEvent, Sensitivity
from schemas.event_types import EventType

__all__ = ["PupilEvents", "at_midnight"]


@dataclass(frozen=True)
class PupilEvents(PersonEvents):
    """The events of one pupil record."""

    pupil: Pupil

    @classmethod
    def start(cls, ctx: SourceContext, source_system: str, record_version: str, pupil: Pupil) -> PupilEvents:
        """Build and validate the pupil's Patient once for the whole record."""
        patient = validate_resource(patient_resource(pupil))
        return cls(RecordEvents(ctx, source_system, record_version, pupil.subjects), patient, pupil)

    def event(
        self,
        event_type: EventType,
        record_id: str,
        occurred_at: datetime,
        resources: Sequence[dict[str, Any]] = (),
        sensitivity: Sensitivity = Sensitivity.NORMAL,
    ) -> HubEvent:
        return self.person_event(
            event_type, record_id, occurred_at, resources, sensitivity, label_patient=False
        )

    def details(self, record_id: str, occurred_at: datetime, related: Sequence[dict[str, Any]]) -> HubEvent:
        """The pupil's own record: the Patient as the focus, then the people related to them."""
        return self.record.event(EventType.PERSON_UPDATED, record_id, occurred_at, [self.patient, *related])
