"""The versions of a city's scheme over time, under the platform's rule for dated data
(:mod:`shared.dated`, written once for every service: supersede only an open-ended version,
refuse every other overlap naming the version, corrections explicit and kept).

Each pack file is one version of a scheme (``version:`` block): valid from a day, until a
day or open-ended (``valid_to: null``), recorded in the order of the versions' numbers; a
correction names the versions it corrects with the reason and the document that decided it.

An appraisal year is appraised under the version in force on the last day of the year when
the year is opened (the year keeps it; a later version supersedes from its own start day
only), or under the correction of that version that is in force on that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.dated import DatedHistory, Days, NumberedVersion, RangeChange, VersionCollision, describe

if TYPE_CHECKING:
    from appraisal.schemes.pack import Scheme

__all__ = [
    "Days",
    "RangeChange",
    "SchemeHistory",
    "SchemeVersion",
    "VersionCollision",
    "describe",
    "last_day",
]


def last_day(year: int, scheme: Scheme) -> dt.date:
    """The last day of the appraisal year ``year`` under ``scheme`` (31 Dec in both cities)."""
    month, day = scheme.appraisal_year.ends.split("-")
    return dt.date(year, int(month), int(day))


@dataclass(kw_only=True)
class SchemeVersion(NumberedVersion):
    """One version of a scheme: what it states, the days it is in force, its links."""

    scheme: Scheme

    @classmethod
    def of(cls, scheme: Scheme, corrects: Sequence[int] = ()) -> SchemeVersion:
        stated = Days(scheme.version.valid_from, scheme.version.valid_to)
        return cls(
            key=scheme.version.number,
            scheme=scheme,
            stated=stated,
            in_force=[stated],
            corrects=tuple(corrects),
        )

    def label(self) -> str:
        return f"version {self.number} of {self.scheme.scheme} ({self.scheme.document})"


class SchemeHistory(DatedHistory[int, SchemeVersion]):
    """The versions of one scheme, in the order they were recorded (their numbers)."""

    def __init__(self, scheme: str) -> None:
        super().__init__(name=SchemeVersion.label, lacking="a scheme", unknown="not recorded")
        self.scheme = scheme

    # --- reading ----------------------------------------------------------------------

    def latest(self) -> SchemeVersion:
        versions = self.versions
        return versions[max(versions)]

    def current(self, today: dt.date) -> Scheme:
        """The version in force today, else the latest recorded (for stating its limits)."""
        version = self.in_force(today) or self.latest()
        return version.scheme

    def version(self, number: int) -> SchemeVersion | None:
        return self.versions.get(number)

    def for_year(self, year: int) -> SchemeVersion | None:
        """The version a year opened now is appraised under: in force on the year's last day."""
        for version in self.entries:
            if any(piece.covers(last_day(year, version.scheme)) for piece in version.in_force):
                return version
        return None

    def of_year(self, year: int, number: int) -> SchemeVersion | None:
        """The version of a year opened under ``number``: that version, or the correction of it
        in force on the year's last day."""
        pinned = self.versions.get(number)
        if pinned is None:
            return None
        day = last_day(year, pinned.scheme)
        for successor in self._corrections_of(pinned):
            if any(piece.covers(day) for piece in successor.in_force):
                return successor
        return pinned

    def _corrections_of(self, version: SchemeVersion) -> list[SchemeVersion]:
        versions = self.versions
        found: list[SchemeVersion] = []
        pending = list(version.corrected_by)
        while pending:
            correction = versions[pending.pop(0)]
            found.append(correction)
            pending.extend(correction.corrected_by)
        return found

    # --- recording (the rule of :mod:`shared.dated`) -------------------------------------

    def append(self, scheme: Scheme) -> SchemeVersion:
        """Record a new version; :class:`VersionCollision` when the rule refuses it."""
        return self.add(SchemeVersion.of(scheme))

    def correct(self, scheme: Scheme, corrects: Sequence[int]) -> SchemeVersion:
        """Record a correction of the versions ``corrects`` (every version in force on one of
        its days must be named)."""
        return self.add_correction(SchemeVersion.of(scheme, corrects))
