"""Human-readable titles and summaries for timeline entries, derived from the event and its resource.

Staff read "6-8 week review — Health visiting", never raw JSON. The title names what happened (the
main resource's type, code or vaccine, else the event code's display) and the service (the
resource's service type, else the partner); the summary adds the event code's display and status.
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import HubEvent
from schemas.event_types import EventType, definition

_WHAT = {
    "Encounter": ("type", "serviceType", "class"),
    "Immunization": ("vaccineCode",),
    "Observation": ("code",),
    "Procedure": ("code",),
    "Condition": ("code",),
    "ServiceRequest": ("code", "category"),
    "Task": ("code", "businessStatus"),
    "EpisodeOfCare": ("type",),
    "Flag": ("code",),
    "Consent": ("category", "scope"),
    "Communication": ("category",),
}
_SERVICE = ("serviceType", "serviceProvider", "performer", "location")
TITLE_MAX = 120


def describe(event: HubEvent) -> tuple[str, str]:
    """(title, summary) for an event; stable for the same event, so rebuilds show the same text."""
    display = definition(event.event_type).display
    resource = _focus(event)
    what = _what(resource) or display
    service = _service(resource) or partner_label(event.source_partner)
    title = f"{what} — {service}" if service else what
    details = [display] if what != display else []
    status = resource.get("status") if resource else None
    if isinstance(status, str) and status:
        details.append(status.replace("-", " "))
    if event.event_type is EventType.IMMUNISATION and resource and resource.get("doseQuantity"):
        details.append("dose recorded")
    summary = f"{'; '.join(details) or display}. {definition(event.event_type).definition}"
    return title[:TITLE_MAX], summary[0].upper() + summary[1:]


def partner_label(partner: str) -> str:
    """A partner code as words ("essex-hv" -> "Essex hv"); the directory's name where known."""
    words = partner.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _focus(event: HubEvent) -> dict[str, Any] | None:
    for entry in event.entries:
        if entry.full_url == event.focus:
            return entry.resource
    return event.entries[0].resource if event.entries else None


def _what(resource: dict[str, Any] | None) -> str:
    if not resource:
        return ""
    for field in _WHAT.get(str(resource.get("resourceType")), ()):
        text = concept_text(resource.get(field))
        if text:
            return text
    return ""


def _service(resource: dict[str, Any] | None) -> str:
    if not resource:
        return ""
    for field in _SERVICE:
        value = resource.get(field)
        text = concept_text(value) or _reference_display(value)
        if text:
            return text
    return ""


def concept_text(value: Any) -> str:
    """A CodeableConcept's text or first coding display (first of a list), else ""."""
    if isinstance(value, list):
        return next((t for item in value if (t := concept_text(item))), "")
    if not isinstance(value, dict):
        return ""
    if value.get("text"):
        return str(value["text"])
    for coding in value.get("coding") or []:
        if isinstance(coding, dict) and coding.get("display"):
            return str(coding["display"])
    return str(value["display"]) if value.get("display") and "code" in value else ""


def _reference_display(value: Any) -> str:
    if isinstance(value, list):
        return next((t for item in value if (t := _reference_display(item))), "")
    if isinstance(value, dict):
        inner = value.get("individual") or value.get("actor") or value.get("location") or value
        return str(inner.get("display") or "") if isinstance(inner, dict) else ""
    return ""
