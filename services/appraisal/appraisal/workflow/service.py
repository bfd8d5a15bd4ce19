"""Moving subjects through the procedure, each move recorded with who, when and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.evaluation import results as evaluation
from appraisal.interpretations import AppraisalInterpretations
from appraisal.workflow.states import Stage, is_reopening, validate_transition
from appraisal.years import repository, roles
from appraisal.years.models import Subject, Transition
from appraisal.years.schemas import TransitionCreate, TransitionRead
from appraisal.years.service import YearContext, subject_json
from shared.errors import Conflict, NotFound
from shared.writes import Event, WriteContext


async def move(
    *,
    write: WriteContext,
    context: YearContext,
    codes: Sequence[str] | None,
    data: TransitionCreate,
    interpretations: AppraisalInterpretations,
    today: dt.date,
) -> list[tuple[Subject, Transition]]:
    """Move the named subjects (default: all of the year) to ``data.to``; all or none.

    No stage is skipped (409); a published result goes back only by a reopening with a
    reason (422 without one). Publication needs a kept result that the stored figures still
    give; it keeps the published result and starts the rectification month.
    """
    session, principal = write.session, write.principal
    year, scheme = context.year, context.scheme
    roles.require_city_staff(principal, year, "Moving subjects through the procedure")
    effective_on = data.effective_on or today
    if effective_on > today:
        raise Conflict(f"The day of the act, {effective_on.isoformat()}, is in the future.")
    await repository.lock_year(session, year.id)  # not while the year's evaluation runs
    subjects = await repository.subjects_of(session, year.id, lock=True)
    if codes is not None:
        by_code = {subject.code: subject for subject in subjects}
        unknown = [code for code in codes if code not in by_code]
        if unknown:
            raise NotFound(f"No subjects {', '.join(unknown)} in {context.label}.")
        subjects = [by_code[code] for code in dict.fromkeys(codes)]
    if not subjects:
        raise NotFound(f"{context.label} has no subjects.")
    stages = scheme.stage_order()
    for subject in subjects:
        try:
            validate_transition(Stage(subject.stage), data.to, reason=data.reason, stages=stages)
        except Conflict as exc:
            raise Conflict(f"{subject.code}: {exc.detail}") from exc
    results = {}
    if data.to is Stage.PUBLISHED:
        results = await evaluation.ensure_publishable(
            session=session, context=context, subjects=subjects, interpretations=interpretations
        )
    moved = []
    now = dt.datetime.now(dt.UTC)
    for subject in subjects:
        before = subject_json(subject)
        current = Stage(subject.stage)
        transition = Transition(
            subject_id=subject.id,
            from_stage=current.value,
            to_stage=data.to.value,
            reopening=is_reopening(current, data.to),
            reason=data.reason,
            effective_on=effective_on,
            actor=principal.actor,
            client_id=principal.client_id,
        )
        session.add(transition)
        if data.to is Stage.PUBLISHED:
            await evaluation.publish(
                write=write,
                context=context,
                subject=subject,
                result=results[subject.id],
                published_on=effective_on,
            )
        subject.stage = data.to.value
        subject.stage_changed_at = now
        moved.append((subject, transition))
        await write.record(
            action="reopen" if transition.reopening else "transition",
            entity="subject",
            entity_id=f"{year.scheme}:{year.year}:{subject.code}",
            jurisdiction=subject.jurisdiction,
            before=before,
            after={**subject_json(subject), "reason": data.reason, "effective_on": effective_on.isoformat()},
            event=Event(
                type="subject.stage_changed",
                subject=f"/years/{year.year}/subjects/{subject.code}?scheme={year.scheme}",
                jurisdiction=subject.jurisdiction,
                data={
                    "scheme": year.scheme,
                    "year": year.year,
                    "subject": subject.code,
                    "from_stage": transition.from_stage,
                    "to_stage": transition.to_stage,
                    "reopening": transition.reopening,
                    "reason": data.reason,
                    "effective_on": effective_on,
                },
            ),
        )
    await write.flush()
    return moved


async def transitions_of(*, session: AsyncSession, subject: Subject) -> Sequence[Transition]:
    """The subject's stage history, oldest first."""
    return await repository.transitions_of(session, [subject.id])


def transition_read(subject: Subject, transition: Transition) -> TransitionRead:
    return TransitionRead(
        subject=subject.code,
        from_stage=Stage(transition.from_stage),
        to_stage=Stage(transition.to_stage),
        reopening=transition.reopening,
        reason=transition.reason,
        effective_on=transition.effective_on,
        actor=transition.actor,
        client_id=transition.client_id,
        recorded_at=transition.recorded_at,
    )
