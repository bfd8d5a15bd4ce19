"""Bonuses (加分项) and deductions (减分项) of a subject, the province's among them (counted
double where the scheme says so: Panjin art. 10)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.evaluation import repository
from appraisal.evaluation.models import Adjustment
from appraisal.evaluation.schemas import AdjustmentCreate, AdjustmentRead
from appraisal.grading.points import points_text
from appraisal.workflow.guards import require_unpublished
from appraisal.years import roles
from appraisal.years.models import Subject
from appraisal.years.service import YearContext
from shared.errors import Conflict
from shared.writes import WriteContext


async def record_adjustment(
    *, write: WriteContext, context: YearContext, subject: Subject, data: AdjustmentCreate
) -> Adjustment:
    principal = write.principal
    roles.require_city_staff(principal, context.year, "Recording bonuses and deductions")
    require_unpublished(subject)
    if data.provincial and context.scheme.double_counting is None:
        raise Conflict(
            f"{context.scheme.document} has no rule counting the province's points double; "
            "record them as ordinary bonuses or deductions."
        )
    adjustment = Adjustment(
        subject_id=subject.id,
        component=data.component,
        points=data.points,
        provincial=data.provincial,
        reason=data.reason,
        recorded_by=principal.actor,
    )
    await write.add(adjustment)
    await write.record(
        action="create",
        entity="adjustment",
        entity_id=str(adjustment.id),
        jurisdiction=subject.jurisdiction,
        after={
            "subject": subject.code,
            "component": data.component,
            "points": points_text(data.points),
            "provincial": data.provincial,
            "reason": data.reason,
        },
        event=None,
    )
    return adjustment


async def adjustments_of(*, session: AsyncSession, subject: Subject) -> Sequence[Adjustment]:
    return await repository.adjustments_of(session, [subject.id])


def adjustment_read(subject: Subject, adjustment: Adjustment) -> AdjustmentRead:
    return AdjustmentRead(
        id=adjustment.id,
        subject=subject.code,
        component=adjustment.component,
        points=adjustment.points,
        provincial=adjustment.provincial,
        reason=adjustment.reason,
        recorded_by=adjustment.recorded_by,
        recorded_at=adjustment.recorded_at,
    )
