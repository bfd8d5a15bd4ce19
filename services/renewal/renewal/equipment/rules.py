"""Whether a piece of equipment is due for scrapping or renewal (设备报废更新) under the plan.

The thresholds are data (``packs/panjin-2024-equipment-thresholds.yaml``), each citing its
task of 盘政发〔2024〕4号: task 22 (tractors of 15 years and more, combine harvesters of 12,
mounted combine harvesters of 10), task 20 (operating diesel trucks of 国三 or below), task 11
(cast-iron and steel water pipes of 30 years and more), task 13 (every grey cast-iron gas
pipe). "N年以上" includes N (以上 includes the number in Chinese legal usage): age ≥ N, the age
in completed years from ``in_service_since`` to ``on``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.errors import InvalidInput, PackError
from shared.months import completed_years
from shared.packs import parse_pack

THRESHOLDS_FILE = "panjin-2024-equipment-thresholds.yaml"
EMISSION_NAMES = {1: "国一", 2: "国二", 3: "国三", 4: "国四", 5: "国五", 6: "国六"}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
KindName = Annotated[str, StringConstraints(pattern=r"^[a-z]+(_[a-z]+)*$", max_length=64)]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    task: int = Field(ge=1)
    action: Text = Field(description="报废, 淘汰, 改造 … as the task words it")
    citation: Text


class AgeRule(_Rule):
    """Renew at ``min_age_years`` completed years of service and more (N年以上)."""

    rule: Literal["age"]
    min_age_years: int = Field(ge=1, le=100)


class EmissionRule(_Rule):
    """Renew at emission standard ``max_emission_standard`` and below (国N及以下)."""

    rule: Literal["emission_standard"]
    max_emission_standard: int = Field(ge=1, le=6)


class EveryItemRule(_Rule):
    """The task renews every item of the kind (改造全部)."""

    rule: Literal["always"]


EquipmentRule = Annotated[AgeRule | EmissionRule | EveryItemRule, Field(discriminator="rule")]


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["equipment_thresholds"]
    plan: str
    document: Text
    equipment: dict[KindName, EquipmentRule] = Field(min_length=1)

    @property
    def kinds(self) -> list[str]:
        return list(self.equipment)

    def assess(
        self, kind: str, in_service_since: dt.date | None, on: dt.date, emission_standard: int | None = None
    ) -> dict[str, object]:
        return assess(
            self, kind=kind, in_service_since=in_service_since, on=on, emission_standard=emission_standard
        )


ThresholdsFile = Thresholds  # the name the router imports


def load_thresholds(packs_dir: Path) -> Thresholds:
    """The thresholds file, checked; a ``PackError`` naming file, field and problem."""
    path = packs_dir / THRESHOLDS_FILE
    thresholds = parse_pack(path, Thresholds)
    for kind, rule in thresholds.equipment.items():
        if not rule.citation.startswith(thresholds.document):
            raise PackError(path.name, f"equipment.{kind}.citation", f"must start with {thresholds.document}")
    return thresholds


def assess(
    thresholds: Thresholds,
    *,
    kind: str,
    in_service_since: dt.date | None,
    on: dt.date,
    emission_standard: int | None,
) -> dict[str, object]:
    """``{"renew": bool, "task": int, "reason": "…", …}`` for one item of equipment.

    ``InvalidInput`` for an unknown kind (listing the known ones) or for a missing or
    impossible value the kind's rule needs (naming the field).
    """
    rule = thresholds.equipment.get(kind)
    if rule is None:
        known = ", ".join(thresholds.equipment)
        raise InvalidInput.field("body.kind", f"unknown kind {kind!r}; known kinds: {known}")
    answer: dict[str, object] = {
        "kind": kind,
        "name": rule.name,
        "task": rule.task,
        "plan": thresholds.plan,
        "citation": rule.citation,
    }
    if isinstance(rule, AgeRule):
        age = _age(kind, in_service_since, on)
        renew = age >= rule.min_age_years
        reason = (
            f"{rule.name} in service {age} full years; task {rule.task}: {rule.action} those of "
            f"{rule.min_age_years} years or more ({rule.min_age_years}年以上)"
        )
        if not renew:
            reason += f"; not yet, due at {rule.min_age_years} years"
        return answer | {"renew": renew, "age_years": age, "reason": reason}
    if isinstance(rule, EmissionRule):
        if emission_standard is None:
            raise InvalidInput.field(
                "body.emission_standard", f"needed to assess a {kind}: 1–6 for 国一…国六"
            )
        if emission_standard not in EMISSION_NAMES:
            raise InvalidInput.field("body.emission_standard", "must be 1–6 for 国一…国六")
        limit = EMISSION_NAMES[rule.max_emission_standard]
        return answer | {
            "renew": emission_standard <= rule.max_emission_standard,
            "reason": f"{rule.name} of emission standard {EMISSION_NAMES[emission_standard]}; "
            f"task {rule.task}: {rule.action} those of {limit} or below ({limit}及以下)",
        }
    return answer | {"renew": True, "reason": f"task {rule.task}: {rule.action} every {rule.name} (全部)"}


def _age(kind: str, in_service_since: dt.date | None, on: dt.date) -> int:
    if in_service_since is None:
        raise InvalidInput.field(
            "body.in_service_since", f"needed to assess a {kind}: the day it entered service"
        )
    if in_service_since > on:
        raise InvalidInput.field(
            "body.in_service_since", f"{in_service_since} is after the day asked about ({on})"
        )
    return completed_years(in_service_since, on)
