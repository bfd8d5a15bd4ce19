"""The event types each service writes (``{noun}.{verb}``; CloudEvents type ``civic.{service}.{type}``).

A webhook subscription names the types it wants; a type not listed here for its service is
refused (422 naming it and the allowed ones) instead of being kept as a filter that never
matches. A service writing a new type adds it here (``shared/tests/test_events.py`` checks
that every type the services' code writes is listed). A service not listed (a test service)
accepts any well-formed type.
"""

from __future__ import annotations

from collections.abc import Iterable

EVENT_TYPES: dict[str, frozenset[str]] = {
    "welfare": frozenset(
        {
            "enrolment.started",
            "enrolment.changed",
            "enrolment.ended",
            "payroll.completed",
            "person.registered",
            "recalculation.completed",
            "standard_version.added",
        }
    ),
    "eldercare": frozenset({"catalogue.changed", "person.newly_eligible", "snapshot.completed"}),
    "appraisal": frozenset(
        {"subject.stage_changed", "results.published", "rectification.due", "rectification.overdue"}
    ),
    "renewal": frozenset(
        {
            "report.submitted",
            "report.accepted",
            "report.returned",
            "report.reopened",
            "task.at_risk",
            "task.overdue",
            "bulletin.published",
        }
    ),
}


def short_type(service: str, name: str) -> str:
    """``enrolment.started`` from either form (``civic.welfare.enrolment.started`` too)."""
    return name.removeprefix(f"civic.{service}.")


def unknown_types(service: str, names: Iterable[str]) -> list[tuple[int, str]]:
    """The (index, name) of each name that is not one of ``service``'s event types."""
    known = EVENT_TYPES.get(service)
    if known is None:
        return []
    return [(index, name) for index, name in enumerate(names) if short_type(service, name) not in known]


def allowed_types(service: str) -> list[str]:
    return sorted(EVENT_TYPES.get(service, ()))
