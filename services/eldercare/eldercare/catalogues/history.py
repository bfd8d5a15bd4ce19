"""The versions of a county's catalogue overrides over time, under the platform's rule for dated data.

Each saved overrides version is valid from a day, until a day or open-ended (``valid_to``
null). The versions of one county are read in the order of their numbers, the order they
were recorded, and (the same rule as appraisal's scheme versions):

- a version may fill days no version covers, or **supersede** the one open-ended version in
  force when it starts after it and is open-ended itself: the superseded version then ends
  the day before (its stated range stays readable);
- anything else **collides** with a version already recorded and is refused, naming it:
  history is append-only, and a version cannot shorten one that has ended;
- a **correction** is explicit: it names every version it corrects, with the reason and the
  document that decided it; on its days those versions stop being in force, and what they
  were in force over before and after stays readable.

Nothing here reads the database: the rows are replayed in the order they were recorded, so
the days each version is in force are derived, never stored (rows are never rewritten).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

ONE_DAY = dt.timedelta(days=1)


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
class Stated:
    """What a recorded version states: its number, its days, and what it corrects."""

    number: int
    valid_from: dt.date
    valid_to: dt.date | None
    corrects: tuple[int, ...] = ()


@dataclass(frozen=True)
class RangeChange:
    """What a corrected version was in force over, before and after a correction."""

    correction: int
    before: tuple[Days, ...]
    after: tuple[Days, ...]


@dataclass
class DatedVersion:
    """One version in its history: the range it states, the days it is in force, its links."""

    stated: Stated
    in_force: list[Days]
    supersedes: int | None = None
    superseded_by: int | None = None
    corrected_by: list[int] = field(default_factory=list)
    changes: list[RangeChange] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.stated.number

    @property
    def status(self) -> Literal["in_force", "superseded", "corrected"]:
        if self.corrected_by:
            return "corrected"
        if self.superseded_by is not None:
            return "superseded"
        return "in_force"


class DatedHistory:
    """The versions of one dataset, in the order they were recorded (their numbers).

    ``label`` names the dataset in messages (``the catalogue overrides of 411702``).
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.versions: dict[int, DatedVersion] = {}

    @classmethod
    def replay(cls, label: str, recorded: Iterable[Stated]) -> DatedHistory:
        """The history of versions already recorded (each was checked when it was saved)."""
        history = cls(label)
        for stated in sorted(recorded, key=lambda item: item.number):
            history.record(stated)
        return history

    # --- reading ----------------------------------------------------------------------

    def in_force(self, day: dt.date) -> DatedVersion | None:
        for version in self.versions.values():
            if any(piece.covers(day) for piece in version.in_force):
                return version
        return None

    def latest_number(self) -> int:
        return max(self.versions, default=0)

    # --- recording --------------------------------------------------------------------

    def record(self, stated: Stated) -> DatedVersion:
        """Record a version: a correction when it names versions, else a new version."""
        return self.correct(stated) if stated.corrects else self.append(stated)

    def _name(self, number: int) -> str:
        return f"version {number} of {self.label}"

    def _collisions(self, days: Days) -> list[DatedVersion]:
        hits = [v for v in self.versions.values() if any(piece.overlaps(days) for piece in v.in_force)]
        return sorted(hits, key=lambda v: (v.in_force[0].start or dt.date.min, v.number))

    def append(self, stated: Stated) -> DatedVersion:
        """Record a new version; :class:`VersionCollision` when the rule refuses it."""
        days = Days(stated.valid_from, stated.valid_to)
        collisions = self._collisions(days)
        new = DatedVersion(stated, [days])
        if not collisions:
            self.versions[new.number] = new
            return new
        first = collisions[0]
        overlapping = [piece for piece in first.in_force if piece.overlaps(days)]
        current = overlapping[-1]
        starts_later = current.start is None or current.start < stated.valid_from
        if len(collisions) == 1 and len(overlapping) == 1 and current.end is None and starts_later:
            if stated.valid_to is None:
                first.in_force[-1] = Days(current.start, stated.valid_from - ONE_DAY)
                first.superseded_by = new.number
                new.supersedes = first.number
                self.versions[new.number] = new
                return new
            why = (
                f"it ends on {stated.valid_to}, but version {first.number} is open-ended: superseding it "
                f"would leave the days after {stated.valid_to} without it. A version that supersedes an "
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
            f"version {new.number} ({days}) collides with {self._name(first.number)}, in force over "
            f"{describe(first.in_force)}: {why}.",
            collides_with=first.number,
        )

    def correct(self, stated: Stated) -> DatedVersion:
        """Record a correction of the versions ``stated.corrects`` (every version in force on
        one of its days must be named)."""
        days = Days(stated.valid_from, stated.valid_to)
        for number in stated.corrects:
            named = self.versions.get(number)
            if named is None:
                raise VersionCollision(
                    f"corrects version {number}, which is not recorded", collides_with=number
                )
            if not any(piece.overlaps(days) for piece in named.in_force):
                raise VersionCollision(
                    f"corrects version {number}, in force over {describe(named.in_force)}, no day of "
                    f"{days}: there is nothing of it to correct",
                    collides_with=number,
                )
        collisions = self._collisions(days)
        for collision in collisions:
            if collision.number not in stated.corrects:
                raise VersionCollision(
                    f"version {stated.number} ({days}) also overlaps {self._name(collision.number)}, in "
                    f"force over {describe(collision.in_force)}, which it does not name: a correction "
                    "names every version it corrects.",
                    collides_with=collision.number,
                )
        new = DatedVersion(stated, [days])
        for collision in collisions:
            before = tuple(collision.in_force)
            collision.in_force = [piece for part in collision.in_force for piece in part.minus(days)]
            collision.corrected_by.append(new.number)
            collision.changes.append(RangeChange(new.number, before, tuple(collision.in_force)))
        self.versions[new.number] = new
        return new
