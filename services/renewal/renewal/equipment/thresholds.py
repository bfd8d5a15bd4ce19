"""The equipment thresholds file: when a piece of equipment is due for scrapping or renewal
(设备报废更新) under the plan; ``equipment.service`` applies them.

The thresholds are data (``packs/panjin-2024-equipment-thresholds.yaml``), each citing its
task of 盘政发〔2024〕4号: task 22 (tractors of 15 years and more, combine harvesters of 12,
mounted combine harvesters of 10), task 20 (operating diesel trucks of 国三 or below), task 11
(cast-iron and steel water pipes of 30 years and more), task 13 (every grey cast-iron gas
pipe). "N年以上" includes N (以上 includes the number in Chinese legal usage): age ≥ N, the age
in completed years from ``in_service_since`` to ``on``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.errors import PackError
from shared.packs import parse_pack

THRESHOLDS_FILE = "panjin-2024-equipment-thresholds.yaml"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
KindName = Annotated[str, StringConstraints(pattern=r"^[a-z]+(_[a-z]+)*$", max_length=64)]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    task: int = Field(ge=1)
    action: Text = Field(description="报废, 淘汰, 改造 … as the task words it")
    citation: Text


Fact = Literal["poor_technical_condition", "high_maintenance_cost"]
FACT_NAMES: dict[str, str] = {"poor_technical_condition": "技术状况差", "high_maintenance_cost": "维修成本高"}


class Condition(BaseModel):
    """A further condition the task puts on the age (e.g. task 22: 技术状况差、维修成本高), which
    the caller states as a fact of the machine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fact: Fact
    text: Text = Field(description="the condition as the task writes it")


class AgeRule(_Rule):
    """Renew at ``min_age_years`` completed years of service and more (N年以上), when the
    conditions the task adds hold too."""

    rule: Literal["age"]
    min_age_years: int = Field(ge=1, le=100)
    also_requires: list[Condition] = Field(default=[], description="conditions besides the age")


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


def load_thresholds(packs_dir: Path) -> Thresholds:
    """The thresholds file, checked; a ``PackError`` naming file, field and problem."""
    path = packs_dir / THRESHOLDS_FILE
    thresholds = parse_pack(path, Thresholds)
    for kind, rule in thresholds.equipment.items():
        if not rule.citation.startswith(thresholds.document):
            raise PackError(path.name, f"equipment.{kind}.citation", f"must start with {thresholds.document}")
        for index, condition in enumerate(rule.also_requires if isinstance(rule, AgeRule) else []):
            field = f"equipment.{kind}.age.also_requires.{index}"
            if condition.text != FACT_NAMES[condition.fact]:
                raise PackError(
                    path.name, f"{field}.text", f"{condition.fact} is {FACT_NAMES[condition.fact]}"
                )
            if condition.text not in rule.citation:
                raise PackError(path.name, f"{field}.text", f"the citation does not say {condition.text}")
    return thresholds
