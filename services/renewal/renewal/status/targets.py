"""Status of a target and of a task on a date (renewal.md, "Status of a target on a date").

- achieved: the latest reported value meets the target (in the target's direction);
- overdue: the deadline has passed and the target is not met;
- at risk: up to the deadline, the latest value is behind the value expected for that date;
  the expected value grows linearly from the previous target, or the baseline, to this
  target (an Interpretation setting);
- missing report: nothing reported although a report was due;
- on track: otherwise.

A task's status is the worst of its targets' and of its reporting duty's. Pure functions
over the plan's pydantic models, decimals and dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from renewal.interpretations import RenewalInterpretations
from renewal.plans.pack import Indicator, Target

StatusName = Literal["achieved", "on track", "at risk", "missing report", "overdue"]
STATUS_ORDER: tuple[StatusName, ...] = ("achieved", "on track", "at risk", "missing report", "overdue")
"""Best to worst."""
CENT = Decimal("0.01")
DEFAULT_INTERPRETATIONS = RenewalInterpretations()


def worst(statuses: Iterable[StatusName]) -> StatusName:
    """The worst of ``statuses``; ``on track`` when there are none."""
    return max(statuses, key=STATUS_ORDER.index, default="on track")


@dataclass(frozen=True)
class TargetStatus:
    indicator: str
    deadline: dt.date | None  # the day it was judged against (None: an undated target, judged against none)
    deadline_stated: bool  # False: the source states no date, and ``deadline`` comes from a setting
    target: Decimal | None  # the value to reach (a relative target resolved against its baseline)
    expected: Decimal | None  # the value expected on the day asked about
    latest: Decimal | None
    status: StatusName
    reason: str


@dataclass(frozen=True)
class ReportedValue:
    """A value of an indicator as a progress report gave it."""

    indicator: str
    value: Decimal
    reported_on: dt.date


def latest_value(values: Iterable[ReportedValue], indicator: str, on: dt.date) -> Decimal | None:
    """The value of ``indicator`` reported last on or before ``on`` (a later entry wins a tie)."""
    latest: ReportedValue | None = None
    for value in values:
        if value.indicator != indicator or value.reported_on > on:
            continue
        if latest is None or value.reported_on >= latest.reported_on:
            latest = value
    return latest.value if latest is not None else None


def baseline_value(indicator: Indicator, baseline: Decimal | None = None) -> Decimal | None:
    """``baseline`` when given (a value recorded since the plan), else the plan file's."""
    if baseline is not None:
        return baseline
    return indicator.baseline.value if indicator.baseline is not None else None


def target_value(indicator: Indicator, target: Target, baseline: Decimal | None = None) -> Decimal | None:
    """The value to reach. A relative target is a percentage change of the baseline value
    (+25% vs 2023 → 1.25 × the 2023 value); None while that value is unknown."""
    if target.kind != "relative":
        return target.value
    base = baseline_value(indicator, baseline)
    if base is None:
        return None
    return base * (1 + target.value / 100)


def meets(indicator: Indicator, target: Target, value: Decimal, goal: Decimal) -> bool:
    """At least ``goal`` (higher is better) or at most (lower is better); strictly beyond it
    where the plan says 超过 (``target.strict``)."""
    if indicator.direction == "higher":
        return value > goal if target.strict else value >= goal
    return value < goal if target.strict else value <= goal


def expected_value(
    indicator: Indicator,
    target: Target,
    on: dt.date,
    *,
    plan_start: dt.date | None,
    baseline: Decimal | None = None,
    interpretations: RenewalInterpretations = DEFAULT_INTERPRETATIONS,
) -> Decimal | None:
    """The value expected on ``on`` on the way to ``target`` (to the cent), or None without a line.

    The line runs from the indicator's previous target (at its deadline), else from the
    baseline (dated by ``interpretations.baseline_dated``; a baseline without a year is dated
    on the plan's issue date), else, for a cumulative target, from zero on the plan's issue
    date; it reaches this target on its deadline.
    """
    goal = target_value(indicator, target, baseline)
    if goal is None or target.deadline is None or interpretations.expected_progress == "none":
        return None
    start = _line_start(indicator, target, plan_start, baseline, interpretations)
    if start is None:
        return None
    start_day, start_value = start
    span = (target.deadline - start_day).days
    if span <= 0:
        return goal.quantize(CENT, ROUND_HALF_UP)
    elapsed = min(max((on - start_day).days, 0), span)
    expected = start_value + (goal - start_value) * Decimal(elapsed) / Decimal(span)
    return expected.quantize(CENT, ROUND_HALF_UP)


def _line_start(
    indicator: Indicator,
    target: Target,
    plan_start: dt.date | None,
    baseline: Decimal | None,
    interpretations: RenewalInterpretations,
) -> tuple[dt.date, Decimal] | None:
    earlier = [
        t
        for t in indicator.targets
        if t.deadline is not None and target.deadline is not None and t.deadline < target.deadline
    ]
    if earlier:
        previous = earlier[-1]
        value = target_value(indicator, previous, baseline)
        return (previous.deadline, value) if value is not None and previous.deadline is not None else None
    base = baseline_value(indicator, baseline)
    if base is not None:
        if indicator.baseline is not None and interpretations.baseline_dated == "end_of_baseline_year":
            return dt.date(indicator.baseline.year, 12, 31), base
        # a baseline of no stated year is the value when the plan was issued
        return (plan_start, base) if plan_start is not None else None
    if target.kind == "cumulative" and interpretations.cumulative_from_zero and plan_start is not None:
        return plan_start, Decimal(0)
    return None


def judged_deadline(
    target: Target, *, plan_horizon: dt.date | None, interpretations: RenewalInterpretations
) -> dt.date | None:
    """The target's deadline; for a target the source states without a date, the plan's
    horizon or none, as ``interpretations.undated_target_deadline`` says."""
    if target.deadline is not None:
        return target.deadline
    return plan_horizon if interpretations.undated_target_deadline == "plan_horizon" else None


def target_status(
    indicator: Indicator,
    target: Target,
    *,
    latest: Decimal | None,
    on: dt.date,
    plan_start: dt.date | None,
    plan_horizon: dt.date | None = None,
    baseline: Decimal | None = None,
    report_required: bool = True,
    interpretations: RenewalInterpretations = DEFAULT_INTERPRETATIONS,
) -> TargetStatus:
    """Status of ``target`` on ``on``, given the latest reported value.

    ``report_required``: whether a report carrying the value was due by ``on``; with nothing
    reported the target is then ``missing report``, else ``on track``.
    ``baseline``: the baseline value when it was recorded outside the plan file.
    ``plan_horizon``: what an undated target is judged against (``undated_target_deadline``).
    """
    goal = target_value(indicator, target, baseline)
    stated = target.deadline is not None
    deadline = judged_deadline(target, plan_horizon=plan_horizon, interpretations=interpretations)
    target = target.model_copy(update={"deadline": deadline})
    undated = (
        ""
        if stated
        else f" (the source states no date; undated_target_deadline={interpretations.undated_target_deadline}"
        + (f": judged against the plan's horizon {deadline})" if deadline else ": never overdue)")
    )

    def answer(status: StatusName, reason: str, expected: Decimal | None = None) -> TargetStatus:
        return TargetStatus(indicator.id, deadline, stated, goal, expected, latest, status, reason + undated)

    if goal is None:
        year = indicator.baseline.year if indicator.baseline is not None else "baseline"
        return answer(
            "missing report", f"the {year} value is not recorded, so the relative target cannot be judged"
        )
    wanted = _wanted(indicator, target, goal)
    if latest is not None and meets(indicator, target, latest, goal):
        return answer("achieved", f"latest value {latest} meets the target {wanted}")
    if deadline is not None and on > deadline:
        shown = "nothing reported" if latest is None else f"latest value {latest}"
        return answer("overdue", f"the deadline {deadline} has passed with {shown}; target {wanted}")
    expected = expected_value(
        indicator, target, on, plan_start=plan_start, baseline=baseline, interpretations=interpretations
    )
    if latest is None:
        if report_required:
            return answer("missing report", "no value reported although a report was due", expected)
        return answer("on track", "no report due yet", expected)
    if expected is None:
        return answer("on track", f"latest value {latest}; no expected line without a baseline", expected)
    behind = latest < expected if indicator.direction == "higher" else latest > expected
    if behind:
        return answer("at risk", f"latest value {latest} is behind the {expected} expected by {on}", expected)
    return answer("on track", f"latest value {latest}; {expected} expected by {on}", expected)


def _wanted(indicator: Indicator, target: Target, goal: Decimal) -> str:
    if indicator.direction == "higher":
        sign = ">" if target.strict else "≥"
    else:
        sign = "<" if target.strict else "≤"
    return f"{sign} {format(goal.normalize(), 'f')} {indicator.unit}"


def duty_status(states: Iterable[str]) -> StatusName:
    """A reporting duty's share of its task's status: an expected report that is ``missing``
    makes it ``missing report``; due, on-time and late reports leave it ``on track``."""
    return "missing report" if any(state == "missing" for state in states) else "on track"


def task_status(targets: Iterable[TargetStatus], duty_states: Iterable[str] = ()) -> StatusName:
    """The worst of the task's targets' statuses and of its reporting duty's; a task with no
    targets and no missing report is ``on track``."""
    statuses = [target.status for target in targets]
    if duty_status(duty_states) == "missing report":
        statuses.append("missing report")
    return worst(statuses)
