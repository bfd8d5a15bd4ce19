"""Status of a target and of a task on a date (renewal.md, "Status of a target on a date").

achieved: the latest reported value meets the target; overdue: the deadline has passed
and it does not; at risk: before the deadline, the latest value is below the value
expected for that date (linear from the previous target, a setting); missing report: no
value reported yet; on track otherwise. A task's status is the worst of its targets'
and of its reporting duty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from renewal.plans.pack import Indicator, Target

ORDER = ["achieved", "on track", "at risk", "missing report", "overdue"]


def worst(statuses: list[str]) -> str:
    return max(statuses, key=ORDER.index) if statuses else "on track"


@dataclass(frozen=True)
class TargetStatus:
    indicator: str
    deadline: dt.date
    target: Decimal | None
    expected: Decimal | None
    latest: Decimal | None
    status: str
    reason: str


def target_value(indicator: Indicator, target: Target) -> Decimal | None:
    if target.kind != "relative":
        return target.value
    if indicator.baseline is None or indicator.baseline.value is None:
        return None
    return indicator.baseline.value * (1 + target.value / 100)


def _meets(indicator: Indicator, latest: Decimal, goal: Decimal) -> bool:
    return latest <= goal if indicator.direction == "lower" else latest >= goal


def target_status(
    indicator: Indicator, target: Target, *, latest: Decimal | None, on: dt.date, plan_start: dt.date | None
) -> TargetStatus:
    goal = target_value(indicator, target)
    if latest is None:
        return TargetStatus(
            indicator.id, target.deadline, goal, None, None, "missing report", "no value reported yet"
        )
    if goal is None:
        return TargetStatus(
            indicator.id,
            target.deadline,
            None,
            None,
            latest,
            "missing report",
            "the baseline value is not recorded, so the relative target cannot be judged",
        )
    if _meets(indicator, latest, goal):
        return TargetStatus(
            indicator.id,
            target.deadline,
            goal,
            goal,
            latest,
            "achieved",
            f"latest value {latest} meets the target {goal}",
        )
    if on > target.deadline:
        return TargetStatus(
            indicator.id,
            target.deadline,
            goal,
            goal,
            latest,
            "overdue",
            f"deadline {target.deadline} passed at {latest}, target {goal}",
        )
    earlier = [t for t in indicator.targets if t.deadline < target.deadline]
    if earlier:
        start_day, start_value = earlier[-1].deadline, target_value(indicator, earlier[-1])
    elif plan_start is None:
        return TargetStatus(
            indicator.id,
            target.deadline,
            goal,
            None,
            latest,
            "on track",
            "the plan's issue date is not known, so no expected line can be drawn",
        )
    else:
        start_day = plan_start
        start_value = (
            indicator.baseline.value if indicator.baseline and indicator.baseline.value is not None else None
        )
    if start_value is None:
        start_value = Decimal(0) if indicator.direction == "higher" else latest
    span = (target.deadline - start_day).days
    elapsed = min(max((on - start_day).days, 0), span) if span > 0 else span
    expected = start_value + (goal - start_value) * Decimal(elapsed) / Decimal(span) if span > 0 else goal
    expected = expected.quantize(Decimal("0.01"))
    if not _meets(indicator, latest, expected):
        return TargetStatus(
            indicator.id,
            target.deadline,
            goal,
            expected,
            latest,
            "at risk",
            f"latest {latest} is behind the {expected} expected by {on}",
        )
    return TargetStatus(
        indicator.id,
        target.deadline,
        goal,
        expected,
        latest,
        "on track",
        f"latest {latest}, {expected} expected by {on}",
    )


def current_target(indicator: Indicator, on: dt.date) -> Target:
    """The first target whose deadline is not yet past, else the last one."""
    return next((t for t in indicator.targets if t.deadline >= on), indicator.targets[-1])
