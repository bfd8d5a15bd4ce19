"""Food-safety incidents (食品安全事件) and the appraisal year each counts against: its own,
or the year before while that year's results are not published (carry-back: Panjin art. 9,
Zhumadian art. 12)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.consequences.findings import attribute_incident
from appraisal.evaluation import repository
from appraisal.evaluation.circumstances import circumstance_effect
from appraisal.evaluation.models import Incident
from appraisal.evaluation.schemas import IncidentCircumstance, IncidentDeduction, IncidentRead
from appraisal.schemes.history import SchemeHistory, describe
from appraisal.workflow.states import AFTER_PUBLICATION, Stage
from appraisal.years import repository as years
from appraisal.years import roles
from appraisal.years.service import YearContext
from shared.auth import Principal
from shared.errors import Conflict, Forbidden
from shared.jurisdictions import registry
from shared.writes import WriteContext


async def record_incident(
    *,
    write: WriteContext,
    history: SchemeHistory,
    data: IncidentDeduction | IncidentCircumstance,
    today: dt.date,
) -> tuple[Incident, bool]:
    """An incident and the year it counts against, by the version of the scheme in force on
    the day it happened; also whether that year's result for the subject is published already
    (it then changes only by a recorded reopening)."""
    session, principal = write.session, write.principal
    city = history.latest().scheme.city
    if not roles.is_city_staff_of(principal, city):
        raise Forbidden(f"Incidents of {history.scheme} are recorded by the appraisal office of {city}.")
    if data.subject == city or not registry().contains(city, data.subject):
        raise Conflict(f"{data.subject} is not a county, district or zone of {city}.")
    if data.occurred_on > today:
        raise Conflict(f"An incident on {data.occurred_on.isoformat()} has not happened yet.")
    version = history.in_force(data.occurred_on)
    if version is None:
        recorded = "; ".join(f"{v.label()}: {describe(v.in_force)}" for v in history.versions.values())
        raise Conflict(
            f"No version of the scheme {history.scheme} was in force on {data.occurred_on.isoformat()} "
            f"({recorded})."
        )
    scheme = version.scheme
    if isinstance(data, IncidentCircumstance):
        circumstance_effect(scheme, data.circumstance)
    opened = await years.years_of_scheme(session, scheme.scheme)
    publications: Mapping[int, dt.date | None] = {row.year: row.published_on for row in opened}
    attribution = attribute_incident(scheme, data.occurred_on, publications)
    incident = Incident(
        scheme=scheme.scheme,
        subject_code=data.subject,
        jurisdiction=data.subject,
        occurred_on=data.occurred_on,
        description=data.description,
        effect=data.effect,
        points=data.points if isinstance(data, IncidentDeduction) else None,
        circumstance=data.circumstance if isinstance(data, IncidentCircumstance) else None,
        counted_year=attribution.year,
        carried_back=attribution.carried_back,
        attribution=attribution.detail,
        citation=attribution.citation,
        recorded_by=principal.actor,
    )
    await write.add(incident)
    counted = next((row for row in opened if row.year == attribution.year), None)
    requires_reopening = False
    if counted is not None:
        subject = await years.subject_by_code(session, counted.id, data.subject)
        requires_reopening = subject is not None and Stage(subject.stage) in AFTER_PUBLICATION
    await write.record(
        action="create",
        entity="incident",
        entity_id=str(incident.id),
        jurisdiction=data.subject,
        after={
            "subject": data.subject,
            "occurred_on": data.occurred_on.isoformat(),
            "effect": data.effect,
            "counted_year": attribution.year,
            "carried_back": attribution.carried_back,
        },
        event=None,
    )
    return incident, requires_reopening


async def incidents_of_year(
    *, session: AsyncSession, context: YearContext, principal: Principal
) -> Sequence[Incident]:
    """The incidents counted against the year: all for city staff, those in their own area
    for others."""
    areas = None if roles.is_city_staff(principal, context.year) else principal.visible_jurisdictions()
    return await repository.incidents_counted_in(
        session, context.year.scheme, context.year.year, jurisdictions=areas
    )


def incident_read(incident: Incident, requires_reopening: bool = False) -> IncidentRead:
    return IncidentRead(
        id=incident.id,
        scheme=incident.scheme,
        subject=incident.subject_code,
        occurred_on=incident.occurred_on,
        description=incident.description,
        effect=incident.effect,
        points=incident.points,
        circumstance=incident.circumstance,
        counted_year=incident.counted_year,
        carried_back=incident.carried_back,
        attribution=incident.attribution,
        citation=incident.citation,
        requires_reopening=requires_reopening,
        recorded_by=incident.recorded_by,
        recorded_at=incident.recorded_at,
    )
