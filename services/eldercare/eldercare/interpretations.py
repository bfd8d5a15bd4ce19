"""Interpretations (解释口径) of 驻政办〔2023〕35号 where its annex leaves a question open.

Each is a setting with the default the spec (``shared/spec/eldercare.md``) chooses, or,
where the spec is silent, the choice documented on the field. The evaluation engine and
the county-override checks take an :class:`EldercareInterpretations` as a parameter.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CareLevel = Literal["full", "semi", "self_care"]
"""照料护理类型 of item 13: 全护理 (full), 半护理 (semi), 全自理 (self_care)."""

AbilityLevel = Annotated[int, Field(ge=0, le=4)]

DEFAULT_CARE_LEVELS: dict[int, CareLevel] = {
    0: "self_care",  # 能力完好
    1: "semi",  # 轻度失能
    2: "semi",  # 中度失能
    3: "full",  # 重度失能
    4: "full",  # 完全失能
}


class EldercareInterpretations(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    preferential_treatment_age: int = Field(
        default=60,
        ge=0,
        description=(
            "Age from which items 3–5 (休闲优待, 就医便利, 城市公共交通) apply. Their group "
            "header is 「达到待遇享受年龄的老年人」 and item 4 itself says 「60周岁及以上」; "
            "the spec (Interpretation) uses 60 for items 3–5. A catalogue condition "
            "`{age_at_least: preferential_treatment_age}` takes this value."
        ),
    )
    elderly_age: int = Field(
        default=60,
        ge=0,
        description=(
            "Age from which a person counts as 老年人 for items 9–23 and 25, whose group "
            "headers name 「…的老年人」 without an age (纳入最低生活保障范围的老年人, 特困人员中"
            "的老年人, 持有残疾人证的老年人, …). 60 follows item 4 and item 24 of the same "
            "annex (「60周岁及以上」). Not stated in the spec's item table (our "
            "Interpretation); set 0 to apply the table without an age floor. A catalogue "
            "condition `{age_at_least: elderly_age}` takes this value."
        ),
    )
    longevity_band_overlap: Literal["upper_band", "lower_band"] = Field(
        default="upper_band",
        description=(
            "Item 8 高龄津贴 band edges: the annex writes 「80—90岁、90—99岁和百岁以上」, so "
            "age 90 is written into two bands. `upper_band` (spec, Interpretation): an age "
            "written into two bands takes the higher band (90 → 100.00); `lower_band`: the "
            "lower band (90 → 60.00)."
        ),
    )
    age_allowance_starts: Literal["next_month", "birthday_month"] = Field(
        default="next_month",
        description=(
            "When a monthly allowance that depends on an age starts (spec, Interpretation): "
            "`next_month` (次月起) counts the age at the end of the previous month, so the "
            "birthday month itself is paid at the old age; `birthday_month` counts the age "
            "at the end of the month, so the birthday month is paid at the new age. Applies "
            "to items whose catalogue entry pays a monthly amount (8, 11, 13, 15, 18); "
            "items that give a service use the age on the evaluation date."
        ),
    )
    nursing_subsidy_choice: Literal["higher", "elderly_care_subsidy", "disability_nursing_subsidy"] = Field(
        default="higher",
        description=(
            "Item 15 护理补贴 versus item 18 重度残疾人护理补贴 for a person eligible for "
            "both: 「可择高申领其中一类护理补贴」 (annex, item 15 group). `higher` pays the "
            "higher one (on equal amounts the first option the catalogue lists, item "
            "15); `elderly_care_subsidy` / `disability_nursing_subsidy` pay the one the "
            "person applied for. Both amounts are shown either way."
        ),
    )
    care_level_by_ability_level: dict[AbilityLevel, CareLevel] = Field(
        default_factory=lambda: dict(DEFAULT_CARE_LEVELS),
        description=(
            "Item 13's 照料护理标准 differs by 全护理 / 半护理 / 全自理 but the profile "
            "carries the GB/T 42195-2022 ability level (0 能力完好, 1 轻度失能, 2 中度失能, "
            "3 重度失能, 4 完全失能). Default (our Interpretation): 0 → self_care (全自理), "
            "1–2 → semi (半护理, partly unable), 3–4 → full (全护理). Must map every level "
            "0–4. Without an ability level the care component is unknown."
        ),
    )
    derived_minimum_rounding: Literal["up", "half_up"] = Field(
        default="up",
        description=(
            "Rounding to the fen of a minimum computed as a multiple or fraction (item 13: "
            "「不低于当地最低生活保障标准的1.3倍」, 「不低于当地最低工资标准的1/3、1/6」). `up` "
            "(our Interpretation): the smallest fen amount that is not below the minimum "
            "(2000 / 6 = 333.333… → 333.34); `half_up`: the platform's default money "
            "rounding (→ 333.33)."
        ),
    )

    admission_priority_order: Literal["shared_rank", "as_listed"] = Field(
        default="shared_rank",
        description=(
            "正文 二（三）15 admits 「在满足政策保障对象入住需求的基础上,优先接收经济困难家庭中失能、"
            "残疾、空巢独居老年人,80周岁以上高龄老年人,计划生育特殊家庭老年人,以及…」: 政策保障对象 "
            "first, then the 优先接收 groups, which the sentence lists without saying whether the "
            "listing is an order. `shared_rank` (our Interpretation): they share one rank, the "
            "catalogue's `rank`; `as_listed`: each group ranks by its place in the list."
        ),
    )

    @field_validator("care_level_by_ability_level")
    @classmethod
    def _every_level(cls, value: dict[int, CareLevel]) -> dict[int, CareLevel]:
        missing = sorted(set(range(5)) - set(value))
        if missing:
            raise ValueError(f"must map every ability level 0–4; missing {missing}")
        return value

    def named_age(self, name: str) -> int:
        """The age a catalogue condition refers to by the setting's name."""
        if name == "preferential_treatment_age":
            return self.preferential_treatment_age
        if name == "elderly_age":
            return self.elderly_age
        raise KeyError(name)


AGE_SETTINGS: tuple[str, ...] = ("preferential_treatment_age", "elderly_age")
"""Interpretation settings a catalogue age condition may name instead of a number."""

CHOICE_SETTINGS: dict[str, tuple[str, ...]] = {
    "nursing_subsidy_choice": ("elderly_care_subsidy", "disability_nursing_subsidy"),
}
"""Settings that choose between catalogue alternatives, with the option keys each knows."""
