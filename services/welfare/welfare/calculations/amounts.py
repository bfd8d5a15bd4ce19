"""The monthly amount due under each program, with a trace that explains it.

dibao (社会救助暂行办法 Art. 12): ``amount = max(0, S(M) − I) × n``; the person programs
pay their standard in force; every parameter is the one in force on the first day of
the month (spec README, "Dates"). ROUND_HALF_UP to the fen.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.errors import InvalidInput
from shared.money import money_str, to_money
from welfare.calculations.schemas import (
    CalculationRequest,
    CalculationResult,
    DibaoCalculation,
    RetireeCalculation,
)
from welfare.standards.history import StandardHistories, Value


def _parameter(name: str, value: Value, shown: str) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": name,
        "value": shown,
        "version": value.version_id,
        "jurisdiction": value.jurisdiction,
        "citation": value.citation.model_dump(exclude_none=True),
    }
    if value.multiplier is not None:
        parameter["multiplier"] = str(value.multiplier)
    if value.residence is not None:
        parameter["residence"] = value.residence
    return parameter


def calculate(
    standards: StandardHistories, data: CalculationRequest, staleness_days: int
) -> CalculationResult:
    day = data.month.first_day
    found = standards.standards_on(data.jurisdiction, day, staleness_days, data.residence)
    value = found.values[data.program]
    if value is not None and value.by_residence and data.residence is None:
        raise InvalidInput.field(
            "body.residence",
            f"{data.jurisdiction} sets urban and rural {data.program} standards apart in {data.month} "
            f"(version {value.version_id}): say whether the household is urban or rural",
        )
    if value is None:
        raise InvalidInput.field(
            "body.month",
            f"no {data.program} standard is known for {data.jurisdiction} in {data.month} "
            "(the sources do not give one)",
        )
    trace: dict[str, Any] = {
        "month_rule": f"parameters in force on the first day of the month ({day})",
        "rounding": "ROUND_HALF_UP to 0.01 yuan",
        "inputs": data.model_dump(mode="json"),
        "warnings": found.warnings,
    }
    eligible, reason = True, None
    if isinstance(data, DibaoCalculation):
        standard = value.amount
        assert standard is not None
        gap = standard - data.per_capita_income
        covered_gap = gap if gap > 0 else Decimal("0.00")
        amount = to_money(covered_gap * data.household_size)
        trace["formula"] = "amount = max(0, S − I) × n (社会救助暂行办法 第十二条)"
        trace["parameters"] = [_parameter("S", value, money_str(standard))]
        trace["formula_citation"] = standards.formula.model_dump(exclude_none=True)
        trace["steps"] = [
            f"S − I = {money_str(standard)} − {money_str(data.per_capita_income)} = {money_str(gap)}",
            f"max(0, S − I) × n = {money_str(covered_gap)} × {data.household_size} = {money_str(amount)}",
        ]
        if gap <= 0:
            eligible = False
            reason = (
                f"not eligible on income: assessed income per person {money_str(data.per_capita_income)} "
                f"is not below the standard {money_str(standard)}"
            )
    elif isinstance(data, RetireeCalculation):
        assert value.tiers is not None
        amount = to_money(value.tiers[data.tier])
        trace["formula"] = "amount = the tier's monthly allowance"
        trace["parameters"] = [_parameter(f"tier {data.tier}", value, money_str(amount))]
    else:
        assert value.amount is not None
        amount = to_money(value.amount)
        trace["formula"] = (
            f"amount = {value.multiplier} × S (the dibao standard)"
            if value.multiplier
            else "amount = standard"
        )
        dibao = found.values["dibao"]
        parameters = [_parameter(data.program, value, money_str(amount))]
        if dibao is not None and dibao.amount is not None:
            parameters.insert(0, _parameter("S", dibao, money_str(dibao.amount)))
        trace["parameters"] = parameters
    return CalculationResult(
        program=data.program,
        jurisdiction=data.jurisdiction,
        month=data.month,
        amount=amount,
        eligible=eligible,
        reason=reason,
        trace=trace,
    )
