"""What no accepted request may change: Panjin's standards answer as the pack says.

:func:`panjin_standards_problems` asks the running service (through the gateway or
in-process) for Panjin's standards on the days either side of 盘政办发〔2024〕4号 taking
effect (二: "自2024年7月1日起执行") and for the spec's calculation, and says what differs
from the pack and the spec; for tests and for the platform's check after a fuzzing run,
which writes with an administrator's token (issue: a back-dated version once cut the 792.00
standard, so that no standard answered for 24 years of paid months).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx

from welfare.config import SERVICE_ROOT
from welfare.standards.history import DERIVED_PROGRAMS, load_standards

BASE = "/api/welfare/v1"
CITY = "211100"
DAYS = ("2000-01-02", "2024-06-15", "2024-06-30", "2024-07-01", "2025-01-01")
SPEC: dict[str, dict[str, Any]] = {
    # welfare.md: 792.00 "until 2024-06-30" with no derived standards known; from 2024-07-01
    # 800.00, 1.8 / 3 / 2.5 × S and the four tiers (盘政办发〔2024〕4号 一)
    "2024-06-30": {"dibao": "792.00", "tekun": None, "orphan_concentrated": None, "orphan_scattered": None},
    "2024-07-01": {
        "dibao": "800.00",
        "tekun": "1440.00",
        "orphan_concentrated": "2400.00",
        "orphan_scattered": "2000.00",
        "retiree_1960s": {"1": "713.00", "2": "668.00", "3": "618.00", "4": "571.00"},
    },
}
CALCULATION = {
    "program": "dibao",
    "jurisdiction": CITY,
    "month": "2024-08",
    "household_size": 3,
    "per_capita_income": "500.00",
}


def expected_from_pack(packs_dir: Path = SERVICE_ROOT / "packs") -> dict[str, dict[str, Any]]:
    """What the pack says for Panjin on each of :data:`DAYS`."""
    standards = load_standards(packs_dir)
    expected: dict[str, dict[str, Any]] = {}
    for day in DAYS:
        found = standards.standards_on(CITY, dt.date.fromisoformat(day), 1_000_000).values
        answer: dict[str, Any] = {}
        for program in ("dibao", *DERIVED_PROGRAMS):
            value = found[program]
            answer[program] = f"{value.amount:.2f}" if value and value.amount is not None else None
        tiers = found["retiree_1960s"]
        answer["retiree_1960s"] = (
            {str(t): f"{a:.2f}" for t, a in tiers.tiers.items()} if tiers and tiers.tiers else None
        )
        expected[day] = answer
    return expected


async def panjin_standards_problems(*, client: httpx.AsyncClient, base: str = BASE) -> list[str]:
    """Ask ``client`` (a reader of the welfare API) and say what differs from the pack and the
    spec; [] when every answer holds."""
    problems = []
    expected = expected_from_pack()
    for day, spec in SPEC.items():
        for program, amount in spec.items():
            if expected[day][program] != amount:
                problems.append(
                    f"the pack gives {program} {expected[day][program]} on {day}, the spec {amount}"
                )
    for day, answer in expected.items():
        response = await client.get(f"{base}/standards", params={"jurisdiction": CITY, "on": day})
        if response.status_code != 200:
            problems.append(f"GET {base}/standards for {CITY} on {day} answered {response.status_code}")
            continue
        got = response.json()
        for program, amount in answer.items():
            if got.get(program) != amount:
                problems.append(
                    f"{CITY} on {day}: {program} is {got.get(program)!r}, the pack says {amount!r} "
                    f"(warnings: {got.get('warnings')})"
                )
    calculated = await client.post(f"{base}/calculations", json=CALCULATION)
    if calculated.status_code != 200 or calculated.json().get("amount") != "900.00":
        problems.append(
            f"POST {base}/calculations with the spec's example answered {calculated.status_code} "
            f"{calculated.text[:300]}, the spec 900.00"
        )
    return problems
