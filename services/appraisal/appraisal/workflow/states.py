"""The appraisal procedure (考核程序) as a state machine per (year, subject).

Stages follow 盘政办发〔2024〕5号 第七条 and 驻政办〔2023〕36号 第七条, then the
rectification of 第十一条 / 第十四条. A stage cannot be skipped and stages go forward only;
after publication a result changes only by a recorded reopening back to the
comprehensive evaluation, with a reason. Recording who, when and why is the caller's job;
this module only decides whether a transition is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from shared.errors import Conflict, InvalidInput


class Stage(StrEnum):
    DAILY_ASSESSMENT = "daily_assessment"
    """日常考核: member departments record findings and scores during the year."""
    MID_YEAR_REVIEW = "mid_year_review"
    """年中评价 (Panjin) / 年中督促 (Zhumadian): key tasks and last year's rectification."""
    STATUS_EVALUATION = "status_evaluation"
    """食品安全状况评价: satisfaction survey, sampling and monitoring pass rates."""
    SELF_EVALUATION = "self_evaluation"
    """自评 / 年终自查: the county's self-evaluation with evidence (佐证材料)."""
    DEPARTMENT_REVIEW = "department_review"
    """部门评审 / 年终评审: review opinions on each indicator."""
    COMPREHENSIVE_EVALUATION = "comprehensive_evaluation"
    """综合评议: bonuses, deductions, downgrades and vetoes give the result."""
    PUBLISHED = "published"
    """结果通报: the result is published to the counties."""
    RECTIFICATION = "rectification"
    """整改: the county's written rectification report within one month."""


STAGES: tuple[Stage, ...] = tuple(Stage)
"""The stages in order (Panjin art. 7, Zhumadian art. 7, then art. 11 / art. 14)."""

INITIAL_STAGE = Stage.DAILY_ASSESSMENT
REOPEN_TO = Stage.COMPREHENSIVE_EVALUATION
"""A reopened result goes back to the comprehensive evaluation, then is published again."""
AFTER_PUBLICATION = frozenset({Stage.PUBLISHED, Stage.RECTIFICATION})


def parse_stage(value: str, *, field: str) -> Stage:
    """``value`` as a stage, or a 422 naming ``field`` and the known stages."""
    try:
        return Stage(value)
    except ValueError:
        known = ", ".join(stage.value for stage in Stage)
        raise InvalidInput.field(field, f"unknown stage {value!r}; known stages: {known}") from None


def next_stage(current: Stage, stages: Sequence[Stage] = STAGES) -> Stage | None:
    """The stage after ``current`` in ``stages``, or None after the last one."""
    position = stages.index(current)
    return stages[position + 1] if position + 1 < len(stages) else None


def is_reopening(current: Stage, target: Stage) -> bool:
    """A published result sent back to the comprehensive evaluation (重新评议)."""
    return current in AFTER_PUBLICATION and target is REOPEN_TO


def validate_transition(
    current: Stage,
    target: Stage | str,
    *,
    reason: str | None = None,
    stages: Sequence[Stage] = STAGES,
    field: str = "body.to",
    reason_field: str = "body.reason",
) -> Stage:
    """Check the move from ``current`` to ``target`` and return the new stage.

    Allowed: the next stage in order, or a reopening from a published result (published or
    rectification) back to the comprehensive evaluation with a non-blank ``reason``.
    Raises InvalidInput (422) for an unknown stage or a reopening without a reason, and
    Conflict (409) for a skip, a step back, a repeat or a move past the last stage.
    ``stages`` is the scheme's stage order (:meth:`Scheme.stage_order`).
    """
    target_stage = target if isinstance(target, Stage) else parse_stage(target, field=field)
    if target_stage not in stages:
        raise InvalidInput.field(field, f"stage {target_stage.value} is not used by this scheme")
    if current not in stages:
        raise Conflict(f"the current stage {current.value} is not used by this scheme")

    if is_reopening(current, target_stage):
        if reason is None or not reason.strip():
            raise InvalidInput.field(
                reason_field,
                "reopening a published result needs a reason; "
                "after publication a result changes only by a recorded reopening",
            )
        return target_stage

    following = next_stage(current, stages)
    if target_stage is following:
        return target_stage
    if target_stage is current:
        raise Conflict(f"already at stage {current.value}")
    if following is None:
        raise Conflict(
            f"{current.value} is the last stage; only a recorded reopening to "
            f"{REOPEN_TO.value} can change the result"
        )
    if stages.index(target_stage) > stages.index(current):
        skipped = ", ".join(
            stage.value for stage in stages[stages.index(current) + 1 : stages.index(target_stage)]
        )
        raise Conflict(
            f"cannot move from {current.value} to {target_stage.value}: "
            f"stages cannot be skipped ({skipped} first); the next stage is {following.value}"
        )
    if current in AFTER_PUBLICATION:
        raise Conflict(
            f"cannot move from {current.value} back to {target_stage.value}: after publication "
            f"a result changes only by a recorded reopening to {REOPEN_TO.value}"
        )
    raise Conflict(
        f"cannot move from {current.value} back to {target_stage.value}: stages go forward "
        f"only; the next stage is {following.value}"
    )
