"""The versions of a city's catalogue and of a county's catalogue overrides over time, under
the platform's rule for dated data (:mod:`shared.dated`, written once for every service, the
same as appraisal's scheme versions and welfare's standards).

Each saved overrides version is valid from a day, until a day or open-ended (``valid_to``
null); the versions of one county are read in the order of their numbers, the order they
were recorded. Nothing here reads the database: the rows are replayed in that order, so the
days each version is in force are derived, never stored (rows are never rewritten).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from shared.dated import (
    DatedHistory,
    DatedVersion,
    Days,
    NumberedVersion,
    RangeChange,
    VersionCollision,
    describe,
)

__all__ = [
    "CatalogueHistory",
    "DatedVersion",
    "Days",
    "NumberedVersion",
    "RangeChange",
    "Stated",
    "VersionCollision",
    "describe",
]


@dataclass(frozen=True)
class Stated:
    """What a recorded version states: its number, its days, and what it corrects."""

    number: int
    valid_from: dt.date
    valid_to: dt.date | None
    corrects: tuple[int, ...] = ()

    def version(self) -> NumberedVersion:
        """The version as its history records it (in force over the days it states, until the
        rule says otherwise)."""
        days = Days(self.valid_from, self.valid_to)
        return NumberedVersion(key=self.number, stated=days, in_force=[days], corrects=self.corrects)


class CatalogueHistory(DatedHistory[int, NumberedVersion]):
    """The versions of one catalogue (a city's, or a county's overrides), in the order they were
    recorded (their numbers). ``label`` names it in messages (``the catalogue overrides of 411702``).
    """

    def __init__(self, label: str) -> None:
        super().__init__(
            name=lambda version: f"version {version.number} of {label}", lacking="it", unknown="not recorded"
        )
        self.label = label

    @classmethod
    def replay(cls, label: str, recorded: Iterable[Stated]) -> CatalogueHistory:
        """The history of versions already recorded (each was checked when it was saved)."""
        history = cls(label)
        for stated in sorted(recorded, key=lambda item: item.number):
            history.record(stated.version())
        return history

    def latest_number(self) -> int:
        return max(self.versions, default=0)
