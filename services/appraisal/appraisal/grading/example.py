"""The spec's grading example (appraisal.md, "Contract endpoints") and the check that the
schemes still answer it: :func:`grading_example_problems`, for tests and for the platform's
check after a fuzzing run (which writes with an administrator's token: no accepted request
may change how the schemes grade).

With the spec's inputs the first total is 107.5 (92.5 + 10 + the bonus 4 + 2 × 1 capped at
5: Panjin art. 8 and 10); the spec's "101.5" is what ad_hoc 4 would give.
"""

from __future__ import annotations

from typing import Any

import httpx

GRADING_PATH = "/api/appraisal/v1/grading"

EXAMPLE: dict[str, Any] = {
    "scheme": "panjin",
    "subjects": [
        {
            "id": "211102",
            "base": 92.5,
            "ad_hoc": 10,
            "bonus": 4,
            "provincial_bonus": 1,
            "deductions": 0,
            "downgrades": 0,
            "veto": False,
        },
        {"id": "211103", "base": 90, "ad_hoc": 12, "bonus": 2},
    ],
}
ANSWER: dict[str, Any] = {
    "results": [
        {
            "id": "211102",
            "total": "107.5",
            "rank": 1,
            "grade": "A",
            "applied": [
                {
                    "rule": "score",
                    "detail": "total = base 92.5 + ad_hoc 10 + bonus 5 − deductions 0 = 107.5, "
                    "rounded half up to 107.5",
                    "citation": "盘政办发〔2024〕5号 第八条",
                    "interpretation": None,
                }
            ],
        },
        {
            "id": "211103",
            "total": "104.0",
            "rank": 2,
            "grade": "A",
            "applied": [
                {
                    "rule": "score",
                    "detail": "total = base 90 + ad_hoc 12 + bonus 2 − deductions 0 = 104, "
                    "rounded half up to 104.0",
                    "citation": "盘政办发〔2024〕5号 第八条",
                    "interpretation": None,
                }
            ],
        },
    ]
}
RULES_OF_THE_FIRST: dict[str, dict[str, Any]] = {
    "double_counting_bonus": {"citation": "盘政办发〔2024〕5号 第十条；附件 考核内容要点 序号5、6"},
    "bonus_total_cap": {"interpretation": "doubled_bonus_respects_cap"},
}
"""Rules the first subject's answer also applies: the province's point counted double
(Panjin art. 10), the doubled bonus still capped at 5 (an Interpretation)."""


def example_problems(answer: Any) -> list[str]:
    """What in a grading answer to :data:`EXAMPLE` differs from the spec's example."""
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        return [f"the answer is not a grading answer: {str(answer)[:200]}"]
    problems = []
    live = {item.get("id"): item for item in answer["results"] if isinstance(item, dict)}
    for expected in ANSWER["results"]:
        got = live.get(expected["id"])
        if got is None:
            problems.append(f"{expected['id']}: missing from the answer")
            continue
        for key in ("total", "rank", "grade"):
            if got.get(key) != expected[key]:
                problems.append(
                    f"{expected['id']}: {key} is {got.get(key)!r}, the spec's example {expected[key]!r}"
                )
        for rule in expected["applied"]:
            if rule not in got.get("applied", []):
                problems.append(f"{expected['id']}: the rule {rule['rule']} no longer reads {rule}")
    first = live.get(EXAMPLE["subjects"][0]["id"]) or {}
    for name, fields in RULES_OF_THE_FIRST.items():
        rule = next((item for item in first.get("applied", []) if item.get("rule") == name), None)
        if rule is None or any(rule.get(key) != value for key, value in fields.items()):
            problems.append(f"{EXAMPLE['subjects'][0]['id']}: the rule {name} is {rule}, expected {fields}")
    if list(live) != [item["id"] for item in ANSWER["results"]]:
        problems.append(f"the results are {list(live)}, in the request's order expected")
    return problems


async def grading_example_problems(*, client: httpx.AsyncClient, path: str = GRADING_PATH) -> list[str]:
    """POST the spec's example with ``client`` (a reader of the appraisal API, through the
    gateway or in-process) and say what differs from the spec's answer; [] when it holds."""
    response = await client.post(path, json=EXAMPLE)
    if response.status_code != 200:
        return [f"POST {path} answered {response.status_code}: {response.text[:300]}"]
    return example_problems(response.json())
