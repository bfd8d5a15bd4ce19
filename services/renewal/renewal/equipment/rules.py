"""Equipment renewal thresholds (tasks 20 and 22) as data, and the assessment of an item."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import InvalidInput
from shared.months import completed_years
from shared.packs import parse_pack

THRESHOLDS_FILE = "panjin-2024-equipment-thresholds.yaml"
EMISSION_NAMES = {1: "国一", 2: "国二", 3: "国三", 4: "国四", 5: "国五", 6: "国六"}


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    task: int
    min_age_years: int | None = Field(default=None, ge=1)
    max_emission_standard: int | None = Field(default=None, ge=1, le=6)
    citation: str


class ThresholdsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str
    kinds: dict[str, Threshold]


def load_thresholds(packs_dir: Path) -> ThresholdsFile:
    return parse_pack(packs_dir / THRESHOLDS_FILE, ThresholdsFile)


def assess(
    thresholds: ThresholdsFile,
    *,
    kind: str,
    in_service_since: dt.date | None,
    on: dt.date,
    emission_standard: int | None,
) -> dict[str, object]:
    rule = thresholds.kinds.get(kind)
    if rule is None:
        known = ", ".join(sorted(thresholds.kinds))
        raise InvalidInput.field("body.kind", f"unknown kind {kind!r}; known kinds: {known}")
    answer: dict[str, object] = {
        "kind": kind,
        "name": rule.name,
        "task": rule.task,
        "plan": thresholds.plan,
        "citation": rule.citation,
    }
    if rule.min_age_years is not None:
        if in_service_since is None:
            raise InvalidInput.field("body.in_service_since", f"needed to assess a {kind}")
        if in_service_since > on:
            raise InvalidInput.field("body.in_service_since", "must not be after the assessment date")
        age = completed_years(in_service_since, on)
        renew = age >= rule.min_age_years
        answer |= {
            "renew": renew,
            "age_years": age,
            "reason": f"{rule.name} in service {age} full years; task {rule.task} scraps those of "
            f"{rule.min_age_years} years or more ({rule.min_age_years}年以上)"
            + ("" if renew else f": {rule.min_age_years - age} more year(s) to go"),
        }
    else:
        assert rule.max_emission_standard is not None
        if emission_standard is None:
            raise InvalidInput.field(
                "body.emission_standard", "needed to assess a diesel_truck (1–6 for 国一…国六)"
            )
        renew = emission_standard <= rule.max_emission_standard
        limit = EMISSION_NAMES[rule.max_emission_standard]
        answer |= {
            "renew": renew,
            "reason": f"emission standard {EMISSION_NAMES[emission_standard]}; task {rule.task} phases out "
            f"operating diesel trucks of {limit} or below ({limit}及以下)",
        }
    return answer
