"""The monthly bulletin (月通报) of a plan: tasks by status, units that did not report,
targets achieved / overdue / at risk, rolled up by lead unit and by responsible leader
with on-time reporting rates. ``bulletins.export`` writes it as CSV and XLSX.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from renewal.plans.pack import Plan
from renewal.status.service import PlanState
from renewal.status.targets import STATUS_ORDER

ON_TIME = "submitted on time"
SETTLED = (ON_TIME, "submitted late", "missing")


def _on_time_rate(states: list[str]) -> str | None:
    settled = [s for s in states if s in SETTLED]
    return None if not settled else f"{sum(s == ON_TIME for s in settled) / len(settled):.2f}"


def monthly_bulletin(*, plan: Plan, month: str, state: PlanState) -> dict[str, Any]:
    """The bulletin of ``month`` from the plan's state on the month's last day."""
    rows: list[dict[str, Any]] = []
    for task_state in state.tasks:
        task = plan.task(task_state.number)
        assert task is not None
        leader = task_state.leader.name if task_state.leader else None
        rows.append(
            {
                "number": task.number,
                "text": task.text,
                "lead_units": [plan.units.resolve(u) or u for u in task.lead_units],
                "responsible_leader": leader,
                "status": task_state.status,
            }
        )
    by_status = {status: [r["number"] for r in rows if r["status"] == status] for status in STATUS_ORDER}

    def rollup(key: str) -> list[dict[str, Any]]:
        groups: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"tasks": 0, "statuses": defaultdict(int), "duties": []}
        )
        for row, task_state in zip(rows, state.tasks, strict=True):
            names = row["lead_units"] if key == "lead_unit" else [row["responsible_leader"] or "—"]
            for name in names:
                group = groups[name]
                group["tasks"] += 1
                group["statuses"][row["status"]] += 1
                group["duties"].extend(d.state for d in task_state.duties)
        return [
            {
                key: name,
                "tasks": g["tasks"],
                "statuses": dict(g["statuses"]),
                "on_time_rate": _on_time_rate(g["duties"]),
            }
            for name, g in sorted(groups.items())
        ]

    reporting: dict[str, list[str]] = defaultdict(list)
    for duty in state.duties:
        reporting[duty.unit].append(duty.state)
    by_reporting_unit = [
        {
            "unit": unit,
            "expected": len(states),
            "states": {s: states.count(s) for s in sorted(set(states))},
            "on_time_rate": _on_time_rate(states),
        }
        for unit, states in sorted(reporting.items())
    ]
    missing = sorted({(d.unit, d.task, d.period) for d in state.duties if d.state == "missing"})
    targets = [t for task_state in state.tasks for t in task_state.targets] + state.plan_targets
    return {
        "plan": plan.id,
        "title": plan.spec.title,
        "document": plan.spec.document,
        "month": month,
        "as_of": state.on.isoformat(),
        "tasks": rows,
        "by_status": by_status,
        "by_lead_unit": rollup("lead_unit"),
        "by_responsible_leader": rollup("responsible_leader"),
        "by_reporting_unit": by_reporting_unit,
        "units_not_reported": [{"unit": u, "task": t, "period": p} for u, t, p in missing],
        "targets": {
            status: [
                {
                    "indicator": t.indicator,
                    "deadline": t.deadline.isoformat() if t.deadline else None,
                    "latest": str(t.latest) if t.latest is not None else None,
                    "target": str(t.target) if t.target is not None else None,
                    "reason": t.reason,
                }
                for t in targets
                if t.status == status
            ]
            for status in ("achieved", "overdue", "at risk")
        },
        "on_time_rate": _on_time_rate([d.state for d in state.duties]),
    }
