"""Answers about dated versions (:mod:`shared.dated`): the days a version is in force, what
superseded or corrected it, and how corrections changed its days.

A service's version answer inherits :class:`VersionHistoryRead` after the fields its versions
state, and fills the history with :func:`version_history_read`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from shared.dated import DatedStatus, Days, NumberedVersion
from shared.schemas import ResponseModel


class DaysRead(ResponseModel):
    valid_from: dt.date | None = Field(description="First day (null: an open start).")
    valid_to: dt.date | None = Field(description="Last day, included (null: open-ended).")


class RangeChangeRead(ResponseModel):
    correction: int = Field(description="The version that corrected this one.")
    in_force_before: list[DaysRead]
    in_force_after: list[DaysRead]


class VersionHistoryRead(ResponseModel):
    """A version's place in its history: the days it is in force now, and what superseded or
    corrected what. Listed after the fields the version states: a version answer is
    ``class XVersionRead(VersionHistoryRead, XVersionStated)``."""

    status: DatedStatus
    in_force: list[DaysRead]
    supersedes: int | None
    superseded_by: int | None
    corrects: list[int]
    corrected_by: list[int]
    correction_reason: str | None
    correction_reference: str | None
    changes: list[RangeChangeRead] = Field(description="How corrections changed the days it is in force.")


def days_read(ranges: Iterable[Days]) -> list[DaysRead]:
    return [DaysRead(valid_from=item.start, valid_to=item.end) for item in ranges]


def version_history_read(
    version: NumberedVersion,
    *,
    corrects: Iterable[int],
    correction_reason: str | None,
    correction_reference: str | None,
) -> dict[str, Any]:
    """The :class:`VersionHistoryRead` fields of ``version``, to pass on to the version's answer
    (``corrects`` and the correction's reason and document as the version recorded them)."""
    return {
        "status": version.status,
        "in_force": days_read(version.in_force),
        "supersedes": version.supersedes,
        "superseded_by": version.superseded_by,
        "corrects": list(corrects),
        "corrected_by": list(version.corrected_by),
        "correction_reason": correction_reason,
        "correction_reference": correction_reference,
        "changes": [
            RangeChangeRead(
                correction=change.correction,
                in_force_before=days_read(change.before),
                in_force_after=days_read(change.after),
            )
            for change in version.changes
        ],
    }
