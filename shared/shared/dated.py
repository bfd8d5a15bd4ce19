"""The platform's rule for dated data: which version of a dataset is in force on a day.

A dataset (a city's scheme, a county's catalogue overrides, a jurisdiction's standards) is
kept as versions, each valid from a day until a day or open-ended. The versions are read in
the order they were recorded, and:

- a version may fill days no version covers, or **supersede** the one open-ended version in
  force when it starts after it and is open-ended itself: the superseded version then ends
  the day before (its stated range stays readable);
- anything else **collides** with a version already recorded and is refused, naming it:
  history is append-only, and a version cannot shorten one that has ended;
- a **correction** is explicit: it names every version it corrects; on its days those
  versions stop being in force, and what they were in force over before and after stays
  readable.

Nothing here knows a domain: a service subclasses :class:`DatedVersion` with what its
versions carry, and names its versions and what a gap would lack in the messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

ONE_DAY = dt.timedelta(days=1)

K = TypeVar("K", int, str)


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

    def __init__(self, detail: str, *, collides_with: int | str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.collides_with = collides_with


@dataclass(frozen=True)
class RangeChange(Generic[K]):
    """What a corrected version was in force over, before and after a correction."""

    correction: K
    before: tuple[Days, ...]
    after: tuple[Days, ...]


DatedStatus = Literal["in_force", "superseded", "corrected"]


@dataclass(kw_only=True)
class DatedVersion(Generic[K]):
    """One version in its history: its key, the range it states (never rewritten), the days
    it is in force (derived by the rule), and what it superseded or corrected."""

    key: K
    stated: Days
    in_force: list[Days]
    corrects: tuple[K, ...] = ()
    supersedes: K | None = None
    superseded_by: K | None = None
    corrected_by: list[K] = field(default_factory=list)
    changes: list[RangeChange[K]] = field(default_factory=list)

    def dated_status(self) -> DatedStatus:
        if self.corrected_by:
            return "corrected"
        if self.superseded_by is not None:
            return "superseded"
        return "in_force"


@dataclass(kw_only=True)
class NumberedVersion(DatedVersion[int]):
    """A version known by its number (1, 2, …: the order it was recorded in)."""

    @property
    def number(self) -> int:
        return self.key

    @property
    def status(self) -> DatedStatus:
        return self.dated_status()


V = TypeVar("V", bound=DatedVersion[Any])


class DatedHistory(Generic[K, V]):
    """The versions of one dataset, in the order they were recorded.

    ``name`` names a version in messages (``version 2 of the catalogue overrides of 411702``);
    ``lacking`` is what the days after a shortened open-ended version would be without
    (``a standard``); ``unknown`` says why a key a correction names is refused
    (``not recorded``).
    """

    def __init__(
        self, *, name: Callable[[V], str], lacking: str, unknown: str, recorded: Iterable[V] = ()
    ) -> None:
        self._name = name
        self._lacking = lacking
        self._unknown = unknown
        self.entries: list[V] = list(recorded)

    # --- reading ----------------------------------------------------------------------

    @property
    def versions(self) -> dict[K, V]:
        """The versions by key, in the order they were recorded."""
        return {version.key: version for version in self.entries}

    def in_force(self, day: dt.date) -> V | None:
        for version in self.entries:
            if any(piece.covers(day) for piece in version.in_force):
                return version
        return None

    # --- recording --------------------------------------------------------------------

    def record(self, version: V) -> V:
        """Record a version: a correction when it names versions, else a new version."""
        return self.add_correction(version) if version.corrects else self.add(version)

    def _collisions(self, days: Days) -> list[V]:
        hits = [v for v in self.entries if any(piece.overlaps(days) for piece in v.in_force)]
        return sorted(hits, key=lambda v: v.in_force[0].start or dt.date.min)

    def add(self, version: V) -> V:
        """Record a new version; :class:`VersionCollision` when the rule refuses it."""
        stated = version.stated
        collisions = self._collisions(stated)
        if not collisions:
            self.entries.append(version)
            return version
        first = collisions[0]
        overlapping = [piece for piece in first.in_force if piece.overlaps(stated)]
        current = overlapping[-1]
        starts_later = stated.start is not None and (current.start is None or current.start < stated.start)
        if len(collisions) == 1 and len(overlapping) == 1 and current.end is None and starts_later:
            if stated.end is None:
                assert stated.start is not None
                first.in_force[first.in_force.index(current)] = Days(current.start, stated.start - ONE_DAY)
                first.superseded_by = version.key
                version.supersedes = first.key
                self.entries.append(version)
                return version
            why = (
                f"it ends on {stated.end}, but version {first.key} is open-ended: superseding it would "
                f"leave the days after {stated.end} without {self._lacking}. A version that supersedes "
                "an open-ended one is open-ended itself"
            )
        elif current.end is None:
            why = (
                f"it starts on or before the day version {first.key} took effect "
                f"({current.start or 'an open start'}); a new version may supersede only an open-ended "
                "version that started earlier"
            )
        else:
            why = (
                f"version {first.key} has ended: history is append-only, and a version that overlaps or "
                "lies inside an ended range is a correction, which names the versions it corrects with "
                "a reason and a document reference"
            )
        raise VersionCollision(
            f"version {version.key} ({stated}) collides with {self._name(first)}, in force over "
            f"{describe(first.in_force)}: {why}.",
            collides_with=first.key,
        )

    def add_correction(self, version: V) -> V:
        """Record ``version`` correcting the versions it names (every version in force on one
        of its days must be named)."""
        stated = version.stated
        by_key = self.versions
        for key in version.corrects:
            named = by_key.get(key)
            if named is None:
                raise VersionCollision(f"corrects version {key}, which is {self._unknown}", collides_with=key)
            if not any(piece.overlaps(stated) for piece in named.in_force):
                raise VersionCollision(
                    f"corrects version {key}, in force over {describe(named.in_force)}, no day of "
                    f"{stated}: there is nothing of it to correct",
                    collides_with=key,
                )
        collisions = self._collisions(stated)
        for collision in collisions:
            if collision.key not in version.corrects:
                raise VersionCollision(
                    f"version {version.key} ({stated}) also overlaps {self._name(collision)}, in force over "
                    f"{describe(collision.in_force)}, which it does not name: a correction names every "
                    "version it corrects.",
                    collides_with=collision.key,
                )
        for collision in collisions:
            before = tuple(collision.in_force)
            collision.in_force = [piece for part in collision.in_force for piece in part.minus(stated)]
            collision.corrected_by.append(version.key)
            collision.changes.append(RangeChange(version.key, before, tuple(collision.in_force)))
        self.entries.append(version)
        return version
