"""The catalogue's conditions read in SQL (discovery, visits) mean what the engine reads."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, literal, select
from sqlalchemy.ext.asyncio import create_async_engine

from eldercare.catalogues.pack import load_catalogue
from eldercare.catalogues.sql import ages_in, condition_sql
from eldercare.evaluations.entitlements import EvaluationContext, evaluate
from eldercare.evaluations.profile import parse_profile
from eldercare.interpretations import EldercareInterpretations
from eldercare.register.models import Circumstances, Person
from shared.settings import async_database_url

PACK = Path(__file__).resolve().parents[1] / "packs" / "411700-zhumadian.yaml"
SETTINGS = EldercareInterpretations()
CHOICES: dict[str, list[Any]] = {
    "pension_scheme": [None, "employee", "resident"],
    "ability_level": [None, 0, 1, 2, 3, 4],
    "tekun": [None, "dispersed", "concentrated"],
    "living_arrangement": [None, "alone", "empty_nest", "left_behind", "with_family"],
    "family_planning_special": [None, "child_died", "child_disabled"],
    "disability_grade": [None, 1, 2, 3, 4],
    "sex": [None, "male", "female"],
    "usual_resident": [None, True, False],
}
FLAGS = [
    "pension_age_reached",
    "self_care_unable",
    "needs_long_term_care",
    "dibao",
    "low_income_edge",
    "expenditure_hardship",
    "relapsed_into_poverty",
    "at_risk_of_relapse",
    "still_in_hardship",
    "special_contribution_group",
    "has_able_supporter",
    "homeless",
]


def random_profile(rng: random.Random) -> dict[str, Any]:
    facts: dict[str, Any] = {name: rng.choice(values) for name, values in CHOICES.items()}
    facts.update({name: rng.random() < 0.3 for name in FLAGS})
    facts["has_disability_certificate"] = facts["disability_grade"] is not None or rng.random() < 0.1
    return facts


def test_ages_in_resolves_the_settings() -> None:
    catalogue = load_catalogue(PACK)
    assert ages_in(catalogue.items[3].eligibility, SETTINGS) == {60}
    assert ages_in(catalogue.items[11].eligibility, EldercareInterpretations(elderly_age=55)) == {55, 80}
    assert ages_in(catalogue.items[8].eligibility, SETTINGS) == {80}


async def test_every_item_condition_agrees_with_the_engine(migrated_database: str) -> None:
    catalogue = load_catalogue(PACK)
    columns = {column.name: column for column in Circumstances.__table__.columns}
    columns["sex"] = Person.__table__.c.sex
    rng = random.Random(20240315)
    engine = create_async_engine(async_database_url(migrated_database))
    try:
        async with engine.connect() as connection:
            for _ in range(300):
                facts = random_profile(rng)
                age = rng.choice([59, 60, 64, 65, 79, 80, 89, 90, 99, 100])
                # born on 1 January: the age on 2024-06-15 is also the age a monthly allowance counts
                birth = dt.date(2024 - age, 1, 1)
                profile = parse_profile({"birth_date": birth, **facts})
                granted = {
                    e.item
                    for e in evaluate(
                        catalogue, profile, dt.date(2024, 6, 15), EvaluationContext()
                    ).entitlements
                }
                bound = {name: literal(value, type_=columns[name].type) for name, value in facts.items()}
                query = select(
                    *(
                        condition_sql(item.eligibility, bound, literal(age, Integer), SETTINGS).label(
                            f"i{number}"
                        )
                        for number, item in catalogue.items.items()
                    )
                )
                row = (await connection.execute(query)).one()
                in_sql = {number for number in catalogue.items if row._mapping[f"i{number}"]}
                assert in_sql == granted, (facts, age)
    finally:
        await engine.dispose()
