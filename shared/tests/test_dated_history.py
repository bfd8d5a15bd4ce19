"""The rule for dated data (shared.dated), written once for appraisal's schemes, eldercare's
catalogues and welfare's standards: whatever versions arrive, in whatever order, at most one
version is in force on a day, a refused version changes nothing, a day once covered stays
covered, only an open-ended version is superseded, and a correction keeps what it changed."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.dated import DatedHistory, Days, NumberedVersion, VersionCollision

ORIGIN = dt.date(2024, 1, 1)
SPAN = 60


def day(offset: int) -> dt.date:
    return ORIGIN + dt.timedelta(days=offset)


def history() -> DatedHistory[int, NumberedVersion]:
    return DatedHistory(
        name=lambda version: f"version {version.number} of the test data",
        lacking="a value",
        unknown="not recorded",
    )


def version(number: int, start: int, end: int | None, corrects: tuple[int, ...] = ()) -> NumberedVersion:
    days = Days(day(start), None if end is None else day(end))
    return NumberedVersion(key=number, stated=days, in_force=[days], corrects=corrects)


# a proposed version: start offset, length (None: open-ended), and how many of the recorded
# versions it names as corrections (0: a new version)
proposals = st.lists(
    st.tuples(
        st.integers(0, SPAN),
        st.one_of(st.none(), st.integers(0, SPAN // 2)),
        st.integers(0, 3),
    ),
    max_size=12,
)
ranges = st.builds(
    lambda start, length: Days(
        None if start is None else day(start),
        None if length is None or start is None else day(start + length),
    ),
    st.one_of(st.none(), st.integers(0, SPAN)),
    st.one_of(st.none(), st.integers(0, SPAN // 2)),
)


def covered(recorded: DatedHistory[int, NumberedVersion]) -> set[dt.date]:
    return {
        day(offset)
        for offset in range(-1, 2 * SPAN)
        if any(piece.covers(day(offset)) for v in recorded.entries for piece in v.in_force)
    }


def refusal(
    recorded: DatedHistory[int, NumberedVersion], proposed: NumberedVersion
) -> VersionCollision | None:
    try:
        recorded.record(proposed)
    except VersionCollision as refused:
        return refused
    return None


def play(
    recorded: DatedHistory[int, NumberedVersion], steps: list[tuple[int, int | None, int]]
) -> list[tuple[NumberedVersion, bool]]:
    """Propose every step; after each, check what holds whatever was proposed."""
    outcomes = []
    for number, (start, length, names) in enumerate(steps, start=1):
        end = None if length is None else start + length
        in_force_on_start = [
            v.key
            for v in recorded.entries
            if any(p.overlaps(version(0, start, end).stated) for p in v.in_force)
        ]
        corrects = tuple(in_force_on_start[:names]) if names else ()
        proposed = version(number, start, end, corrects)
        before = copy.deepcopy(recorded.entries)
        days_before = covered(recorded)
        refused = refusal(recorded, proposed)
        if refused is not None:
            assert recorded.entries == before, "a refused version changed the history"
            assert refused.collides_with in {v.key for v in before} | set(corrects)
            assert refused.detail.startswith(("version ", "corrects version "))
            outcomes.append((proposed, False))
            continue
        outcomes.append((proposed, True))
        assert proposed.in_force == [proposed.stated], "a recorded version is in force on every day it states"
        assert days_before <= covered(recorded), "a day once covered lost its version"
        if not corrects:
            for old, new in zip(before, recorded.entries, strict=False):
                if old.in_force != new.in_force:
                    assert old.in_force[-1].end is None, "a new version shortened an ended range"
                    assert new.superseded_by == number
                    assert proposed.supersedes == new.key
        else:
            for old, new in zip(before, recorded.entries, strict=False):
                if new.key in corrects:
                    assert number in new.corrected_by
                    assert new.changes[-1].before == tuple(old.in_force)
                    assert new.changes[-1].after == tuple(new.in_force)
                else:
                    assert old.in_force == new.in_force, "a correction changed a version it did not name"
    return outcomes


@settings(max_examples=400, deadline=None)
@given(proposals)
def test_at_most_one_version_is_in_force_on_a_day(steps: list[tuple[int, int | None, int]]) -> None:
    recorded = history()
    play(recorded, steps)
    for offset in range(-1, 2 * SPAN):
        holders = [v.key for v in recorded.entries if any(p.covers(day(offset)) for p in v.in_force)]
        assert len(holders) <= 1, f"{day(offset)} has {holders}"
        found = recorded.in_force(day(offset))
        assert (found.key if found else None) == (holders[0] if holders else None)


@settings(max_examples=400, deadline=None)
@given(proposals)
def test_stated_ranges_stay_and_in_force_lies_inside_them(steps: list[tuple[int, int | None, int]]) -> None:
    recorded = history()
    outcomes = play(recorded, steps)
    accepted = [proposed for proposed, ok in outcomes if ok]
    assert [v.key for v in recorded.entries] == [v.key for v in accepted]
    for entry in recorded.entries:
        stated = entry.stated
        for piece in entry.in_force:
            assert piece.minus(stated) == [], f"{piece} lies outside {stated}"
        if entry.superseded_by is not None:
            assert entry.stated.end is None, "only an open-ended version is superseded"


@settings(max_examples=400, deadline=None)
@given(ranges, ranges)
def test_minus_leaves_the_days_outside_the_other_range(first: Days, second: Days) -> None:
    pieces = first.minus(second)
    for offset in range(-2, 2 * SPAN):
        on = day(offset)
        inside = any(piece.covers(on) for piece in pieces)
        assert inside == (first.covers(on) and not second.covers(on))
    assert all(not a.overlaps(b) for i, a in enumerate(pieces) for b in pieces[i + 1 :])


def test_the_messages_name_the_version_and_what_it_collides_with() -> None:
    recorded = history()
    recorded.record(version(1, 0, None))
    recorded.record(version(2, 10, None))
    assert recorded.versions[1].in_force == [Days(day(0), day(9))]
    assert (recorded.versions[1].status, recorded.versions[2].supersedes) == ("superseded", 1)
    with pytest.raises(VersionCollision) as shorter:
        recorded.record(version(3, 20, 30))
    assert shorter.value.collides_with == 2
    assert shorter.value.detail == (
        "version 3 (2024-01-21 to 2024-01-31) collides with version 2 of the test data, in force over "
        "2024-01-11 to open-ended: it ends on 2024-01-31, but version 2 is open-ended: superseding it "
        "would leave the days after 2024-01-31 without a value. A version that supersedes an "
        "open-ended one is open-ended itself."
    )
    with pytest.raises(VersionCollision) as ended:
        recorded.record(version(3, 5, None))
    assert ended.value.collides_with == 1
    assert "version 1 has ended: history is append-only" in ended.value.detail
    with pytest.raises(VersionCollision) as unknown:
        recorded.record(version(3, 5, 6, corrects=(7,)))
    assert unknown.value.detail == "corrects version 7, which is not recorded"
    with pytest.raises(VersionCollision) as unnamed:
        recorded.record(version(3, 5, 12, corrects=(1,)))
    assert unnamed.value.collides_with == 2
    fixed = recorded.record(version(3, 5, 12, corrects=(1, 2)))
    assert recorded.versions[1].in_force == [Days(day(0), day(4))]
    assert recorded.versions[2].in_force == [Days(day(13), None)]
    assert recorded.versions[2].changes[0].before == (Days(day(10), None),)
    assert (recorded.in_force(day(7)), recorded.versions[2].status) == (fixed, "corrected")
