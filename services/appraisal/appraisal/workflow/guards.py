"""Checks that a record is written in its stage of the procedure (409 otherwise)."""

from __future__ import annotations

from appraisal.workflow.states import AFTER_PUBLICATION, REOPEN_TO, Stage
from appraisal.years.models import Subject
from appraisal.years.service import YearContext
from shared.errors import Conflict


def require_stage(context: YearContext, subject: Subject, stage: Stage, what: str) -> None:
    """``what`` is recorded at ``stage`` only (the scheme's step names the article)."""
    step = next((item for item in context.scheme.workflow if item.stage == stage), None)
    if step is None:
        raise Conflict(f"{what} is not a stage of {context.scheme.document} ({context.scheme.citation}).")
    if subject.stage != stage.value:
        raise Conflict(
            f"{what} is recorded at the stage {stage.value} ({step.name}, {step.citation}); "
            f"{subject.code} is at {subject.stage}."
        )


def require_before_evaluation(context: YearContext, subject: Subject, what: str) -> None:
    """``what`` closes when the comprehensive evaluation starts."""
    if context.reached_evaluation(subject):
        raise Conflict(
            f"{what} closes when the comprehensive evaluation starts; {subject.code} is at {subject.stage}."
        )


def require_unpublished(subject: Subject) -> None:
    """After publication a result changes only by a recorded reopening."""
    if Stage(subject.stage) in AFTER_PUBLICATION:
        raise Conflict(
            f"The result of {subject.code} is published ({subject.stage}): it changes only by a "
            f"recorded reopening to {REOPEN_TO.value}."
        )
