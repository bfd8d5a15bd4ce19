"""The check that the schemes still answer the spec's grading example finds a scheme, or an
interpretation, that grades it differently (in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from appraisal.config import Settings
from appraisal.grading.example import ANSWER, example_problems, grading_example_problems
from appraisal.interpretations import AppraisalInterpretations
from appraisal.main import create_app
from shared.testing import TokenMint, app_client

PACKS = Path(__file__).resolve().parents[1] / "packs"


def reader(mint: TokenMint) -> dict[str, str]:
    return mint.headers(scopes=["appraisal:read"], jurisdictions=["211100"], subject="reader")


async def test_the_loaded_schemes_answer_the_example(migrated_database: str, mint: TokenMint) -> None:
    app = create_app(Settings(database_url=migrated_database))
    async with app_client(app, mint) as client:
        client.headers.update(reader(mint))
        assert await grading_example_problems(client=client) == []


async def test_a_changed_cap_is_found(migrated_database: str, mint: TokenMint, tmp_path: Path) -> None:
    data = yaml.safe_load((PACKS / "panjin.yaml").read_text(encoding="utf-8"))
    data["score"]["caps"]["bonus"]["max"] = 4
    (tmp_path / "panjin.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app = create_app(Settings(database_url=migrated_database, packs_dir=tmp_path))
    async with app_client(app, mint) as client:
        client.headers.update(reader(mint))
        problems = await grading_example_problems(client=client)
    assert "211102: total is '106.5', the spec's example '107.5'" in problems


async def test_a_changed_interpretation_is_found(migrated_database: str, mint: TokenMint) -> None:
    settings = Settings(
        database_url=migrated_database,
        interpretations=AppraisalInterpretations(doubled_bonus_respects_cap=False),
    )
    async with app_client(create_app(settings), mint) as client:
        client.headers.update(reader(mint))
        problems = await grading_example_problems(client=client)
    assert any(problem.startswith("211102: total is '108.5'") for problem in problems)
    assert any("bonus_total_cap" in problem for problem in problems)


@pytest.mark.parametrize("answer", [None, {"results": "x"}, {"results": []}])
def test_an_answer_of_another_shape_is_a_problem(answer: object) -> None:
    assert example_problems(answer) != []
    assert example_problems(ANSWER) != []  # the abbreviated answer lacks the doubled bonus rules
