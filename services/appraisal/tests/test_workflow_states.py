"""The appraisal procedure's state machine: forward one stage at a time, reopening recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from appraisal.schemes.pack import load_schemes
from appraisal.workflow.states import (
    INITIAL_STAGE,
    STAGES,
    Stage,
    is_reopening,
    next_stage,
    validate_transition,
)
from shared.errors import Conflict, InvalidInput

PACKS = Path(__file__).resolve().parents[1] / "packs"


def test_the_stages_in_order() -> None:
    assert [stage.value for stage in STAGES] == [
        "daily_assessment",
        "mid_year_review",
        "status_evaluation",
        "self_evaluation",
        "department_review",
        "comprehensive_evaluation",
        "published",
        "rectification",
    ]
    assert INITIAL_STAGE is Stage.DAILY_ASSESSMENT
    assert next_stage(Stage.PUBLISHED) is Stage.RECTIFICATION
    assert next_stage(Stage.RECTIFICATION) is None


def test_a_year_walks_every_stage_in_turn() -> None:
    stage = INITIAL_STAGE
    visited = [stage]
    while (following := next_stage(stage)) is not None:
        stage = validate_transition(stage, following.value)
        visited.append(stage)
    assert tuple(visited) == STAGES


@pytest.mark.parametrize("name", ["panjin", "zhumadian"])
def test_each_scheme_uses_the_same_order(name: str) -> None:
    scheme = load_schemes(PACKS)[name]
    order = scheme.stage_order()
    assert validate_transition(Stage.SELF_EVALUATION, "department_review", stages=order) is (
        Stage.DEPARTMENT_REVIEW
    )


def test_a_stage_cannot_be_skipped() -> None:
    with pytest.raises(Conflict) as caught:
        validate_transition(Stage.STATUS_EVALUATION, "department_review")
    assert caught.value.status == 409
    assert caught.value.detail == (
        "cannot move from status_evaluation to department_review: stages cannot be skipped "
        "(self_evaluation first); the next stage is self_evaluation"
    )
    with pytest.raises(Conflict, match="stages cannot be skipped"):
        validate_transition(Stage.DAILY_ASSESSMENT, Stage.PUBLISHED)
    with pytest.raises(Conflict, match="stages cannot be skipped"):
        validate_transition(Stage.DEPARTMENT_REVIEW, Stage.PUBLISHED)


def test_stages_go_forward_only_before_publication() -> None:
    with pytest.raises(Conflict) as caught:
        validate_transition(Stage.DEPARTMENT_REVIEW, "self_evaluation")
    assert caught.value.detail == (
        "cannot move from department_review back to self_evaluation: stages go forward only; "
        "the next stage is comprehensive_evaluation"
    )


def test_the_same_stage_twice_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="already at stage mid_year_review"):
        validate_transition(Stage.MID_YEAR_REVIEW, "mid_year_review")


def test_a_published_result_changes_only_by_a_recorded_reopening() -> None:
    with pytest.raises(Conflict) as caught:
        validate_transition(Stage.PUBLISHED, "department_review", reason="new evidence")
    assert "only by a recorded reopening to comprehensive_evaluation" in caught.value.detail

    with pytest.raises(InvalidInput) as missing:
        validate_transition(Stage.PUBLISHED, "comprehensive_evaluation")
    assert missing.value.errors is not None
    assert missing.value.errors[0]["field"] == "body.reason"
    with pytest.raises(InvalidInput):
        validate_transition(Stage.PUBLISHED, "comprehensive_evaluation", reason="   ")

    reopened = validate_transition(
        Stage.PUBLISHED, "comprehensive_evaluation", reason="事故瞒报线索 (art. 9 carry-back)"
    )
    assert reopened is Stage.COMPREHENSIVE_EVALUATION
    assert is_reopening(Stage.PUBLISHED, reopened)
    # after reopening the result is published again
    assert validate_transition(reopened, "published") is Stage.PUBLISHED


def test_rectification_is_last_and_can_be_reopened() -> None:
    with pytest.raises(Conflict) as caught:
        validate_transition(Stage.RECTIFICATION, "published")
    assert caught.value.detail == (
        "rectification is the last stage; only a recorded reopening to "
        "comprehensive_evaluation can change the result"
    )
    assert (
        validate_transition(Stage.RECTIFICATION, "comprehensive_evaluation", reason="appeal upheld")
        is Stage.COMPREHENSIVE_EVALUATION
    )


def test_the_normal_step_into_comprehensive_evaluation_is_not_a_reopening() -> None:
    assert not is_reopening(Stage.DEPARTMENT_REVIEW, Stage.COMPREHENSIVE_EVALUATION)
    assert validate_transition(Stage.DEPARTMENT_REVIEW, "comprehensive_evaluation") is (
        Stage.COMPREHENSIVE_EVALUATION
    )
    with pytest.raises(Conflict, match="stages cannot be skipped"):
        validate_transition(Stage.STATUS_EVALUATION, "comprehensive_evaluation", reason="x")


def test_an_unknown_stage_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_transition(Stage.DAILY_ASSESSMENT, "approved")
    assert caught.value.errors is not None
    assert caught.value.errors[0]["field"] == "body.to"
    assert caught.value.errors[0]["message"].startswith("unknown stage 'approved'; known stages:")


def test_a_shorter_scheme_order_is_followed() -> None:
    # a scheme without a mid-year review goes straight from daily assessment to status
    order = tuple(stage for stage in STAGES if stage is not Stage.MID_YEAR_REVIEW)
    assert (
        validate_transition(Stage.DAILY_ASSESSMENT, "status_evaluation", stages=order)
        is Stage.STATUS_EVALUATION
    )
    with pytest.raises(InvalidInput, match="not used by this scheme"):
        validate_transition(Stage.DAILY_ASSESSMENT, "mid_year_review", stages=order)
