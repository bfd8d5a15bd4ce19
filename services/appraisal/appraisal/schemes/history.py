"""The versions of a city's scheme over time, under the platform's rule for dated data.

Each pack file is one version of a scheme (``version:`` block): valid from a day, until a
day or open-ended (``valid_to: null``). The versions of one scheme are read in the order of
their numbers, the order they were recorded, and:

- a version may fill days no version covers, or **supersede** the one open-ended version in
  force when it starts after it and is open-ended itself: the superseded version then ends
  the day before (its stated range stays readable);
- anything else **collides** with a version already recorded and is refused, naming it:
  history is append-only, and a version cannot shorten one that has ended;
- a **correction** is explicit: it names every version it corrects, with the reason and the
  document that decided it; on its days those versions stop being in force, and what they
  were in force over before and after stays readable.

An appraisal year is appraised under the version in force on the last day of the year when
the year is opened (the year keeps it; a later version supersedes from its own start day
only), or under the correction of that version that is in force on that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from appraisal.schemes.pack import Scheme

ONE_DAY = dt.timedelta(days=1)


def last_day(year: int, scheme: Scheme) -> dt.date:
    """The last day of the appraisal year ``year`` under ``scheme`` (31 Dec in both cities)."""
    month, day = scheme.appraisal_year.ends.split("-")
    return dt.date(year, int(month), int(day))


@dataclass(frozen=True)
class Days:
    """Days ``start`` to ``end``, both included; ``None`` is an open end."""

    start: dt.date | None
    end: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, other: Days) -> bool:
        low, high = dt.date.min, dt.date.max
        return (self.start or low) <= (other.end or high) and (other.start or low) <= (self.end or high)

    def minus(self, other: Days) -> list[Days]:
        """The days of this range outside ``other``: none, one or two ranges."""
        if not self.overlaps(other):
            return [self]
        pieces = []
        if other.start is not None and (self.start is None or self.start < other.start):
            pieces.append(Days(self.start, other.start - ONE_DAY))
        if other.end is not None and (self.end is None or other.end < self.end):
            pieces.append(Days(other.end + ONE_DAY, self.end))
        return pieces

    def __str__(self) -> str:
        start = self.start.isoformat() if self.start else "an open start"
        end = self.end.isoformat() if self.end else "open-ended"
        return f"{start} to {end}"


def describe(ranges: Sequence[Days]) -> str:
    return " and ".join(str(item) for item in ranges) if ranges else "no day"


class VersionCollision(ValueError):
    """A version the rule refuses: names the version it collides with."""

    def __init__(self, detail: str, *, collides_with: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.collides_with = collides_with


@dataclass(frozen=True)
class RangeChange:
    """What a corrected version was in force over, before and after a correction."""

    correction: int
    before: tuple[Days, ...]
    after: tuple[Days, ...]


@dataclass
class SchemeVersion:
    """One version of a scheme: what it states, the days it is in force, its links."""

    scheme: Scheme
    stated: Days
    in_force: list[Days]
    supersedes: int | None = None
    superseded_by: int | None = None
    corrects: tuple[int, ...] = ()
    corrected_by: list[int] = field(default_factory=list)
    changes: list[RangeChange] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.scheme.version.number

    @property
    def status(self) -> Literal["in_force", "superseded", "corrected"]:
        if self.corrected_by:
            return "corrected"
        if self.superseded_by is not None:
            return "superseded"
        return "in_force"

    def label(self) -> str:
        return f"version {self.number} of {self.scheme.scheme} ({self.scheme.document})"


class SchemeHistory:
    """The versions of one scheme, in the order they were recorded (their numbers)."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self.versions: dict[int, SchemeVersion] = {}

    # --- reading ----------------------------------------------------------------------

    def in_force(self, day: dt.date) -> SchemeVersion | None:
        for version in self.versions.values():
            if any(piece.covers(day) for piece in version.in_force):
                return version
        return None

    def latest(self) -> SchemeVersion:
        return self.versions[max(self.versions)]

    def current(self, today: dt.date) -> Scheme:
        """The version in force today, else the latest recorded (for stating its limits)."""
        version = self.in_force(today) or self.latest()
        return version.scheme

    def version(self, number: int) -> SchemeVersion | None:
        return self.versions.get(number)

    def for_year(self, year: int) -> SchemeVersion | None:
        """The version a year opened now is appraised under: in force on the year's last day."""
        for version in self.versions.values():
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
        found: list[SchemeVersion] = []
        pending = list(version.corrected_by)
        while pending:
            correction = self.versions[pending.pop(0)]
            found.append(correction)
            pending.extend(correction.corrected_by)
        return found

    # --- recording --------------------------------------------------------------------

    def _collisions(self, stated: Days) -> list[SchemeVersion]:
        hits = [v for v in self.versions.values() if any(piece.overlaps(stated) for piece in v.in_force)]
        return sorted(hits, key=lambda v: (v.in_force[0].start or dt.date.min, v.number))

    def append(self, scheme: Scheme) -> SchemeVersion:
        """Record a new version; :class:`VersionCollision` when the rule refuses it."""
        stated = Days(scheme.version.valid_from, scheme.version.valid_to)
        collisions = self._collisions(stated)
        new = SchemeVersion(scheme, stated, [stated])
        if not collisions:
            self.versions[new.number] = new
            return new
        first = collisions[0]
        overlapping = [piece for piece in first.in_force if piece.overlaps(stated)]
        current = overlapping[-1]
        starts_later = stated.start is not None and (current.start is None or current.start < stated.start)
        if len(collisions) == 1 and len(overlapping) == 1 and current.end is None and starts_later:
            if stated.end is None:
                assert stated.start is not None
                first.in_force[-1] = Days(current.start, stated.start - ONE_DAY)
                first.superseded_by = new.number
                new.supersedes = first.number
                self.versions[new.number] = new
                return new
            why = (
                f"it ends on {stated.end}, but version {first.number} is open-ended: superseding it "
                f"would leave the days after {stated.end} without a scheme. A version that supersedes an "
                "open-ended one is open-ended itself"
            )
        elif current.end is None:
            why = (
                f"it starts on or before the day version {first.number} took effect ({current.start}); "
                "a new version may supersede only an open-ended version that started earlier"
            )
        else:
            why = (
                f"version {first.number} has ended: history is append-only, and a version that overlaps "
                "or lies inside an ended range is a correction, which names the versions it corrects "
                "with a reason and a document reference"
            )
        raise VersionCollision(
            f"version {new.number} ({stated}) collides with {first.label()}, in force over "
            f"{describe(first.in_force)}: {why}.",
            collides_with=first.number,
        )

    def correct(self, scheme: Scheme, corrects: Sequence[int]) -> SchemeVersion:
        """Record a correction of the versions ``corrects`` (every version in force on one of
        its days must be named)."""
        stated = Days(scheme.version.valid_from, scheme.version.valid_to)
        for number in corrects:
            named = self.versions.get(number)
            if named is None:
                raise VersionCollision(
                    f"corrects version {number}, which is not recorded", collides_with=number
                )
            if not any(piece.overlaps(stated) for piece in named.in_force):
                raise VersionCollision(
                    f"corrects version {number}, in force over {describe(named.in_force)}, no day of "
                    f"{stated}: there is nothing of it to correct",
                    collides_with=number,
                )
        collisions = self._collisions(stated)
        for collision in collisions:
            if collision.number not in corrects:
                raise VersionCollision(
                    f"version {scheme.version.number} ({stated}) also overlaps {collision.label()}, in force "
                    f"over {describe(collision.in_force)}, which it does not name: a correction names every "
                    "version it corrects.",
                    collides_with=collision.number,
                )
        new = SchemeVersion(scheme, stated, [stated], corrects=tuple(corrects))
        for collision in collisions:
            before = tuple(collision.in_force)
            collision.in_force = [piece for part in collision.in_force for piece in part.minus(stated)]
            collision.corrected_by.append(new.number)
            collision.changes.append(RangeChange(new.number, before, tuple(collision.in_force)))
        self.versions[new.number] = new
        return new
