"""A month's run reads its scope in parts (its jurisdictions dealt in turn), one after another,
the next part's query already running while the current one is read (``service._one_ahead``);
an error closes every part."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

import pytest

from eldercare.snapshots import service

CITY = ["411700", "411702", "411721", "411722", "411723", "411724", "411725", "411726", "411727"]


@pytest.mark.parametrize("parts", [1, 2, 4, 9, 20])
def test_the_scope_is_dealt_into_parts_each_jurisdiction_once(parts: int) -> None:
    dealt = service.jurisdiction_parts(CITY, parts)
    assert len(dealt) == min(parts, len(CITY))
    assert all(dealt)  # no empty part: each is a query
    assert sorted(code for part in dealt for code in part) == sorted(CITY)
    # in turn: the counties, listed in order, spread over the parts
    assert max(map(len, dealt)) - min(map(len, dealt)) <= 1
    assert [part[0] for part in dealt] == CITY[: len(dealt)]


async def test_parts_come_in_turn_and_the_next_is_asked_for_before_the_current_is_read() -> None:
    events: list[str] = []

    async def part(name: str, rows: list[int]) -> AsyncGenerator[int, None]:
        events.append(f"start {name}")
        for row in rows:
            await asyncio.sleep(0)
            yield row
        events.append(f"end {name}")

    read = []
    async for row in service._one_ahead([part("a", [1, 2]), part("b", [3]), part("c", []), part("d", [4])]):
        read.append(row)
        events.append(f"row {row}")
    assert read == [1, 2, 3, 4]
    # b runs before a's first row is handed out, c before b's, d before c is found empty
    assert events.index("start b") < events.index("row 1")
    assert events.index("start c") < events.index("row 3")
    assert events.index("start d") < events.index("row 4")
    # never more than one part ahead: c is not asked for while a is read
    assert events.index("start c") > events.index("row 2")


async def test_an_error_while_reading_closes_every_part() -> None:
    closed: list[str] = []

    async def part(name: str) -> AsyncGenerator[str, None]:
        try:
            yield name
            await asyncio.sleep(30)
            yield name
        finally:
            closed.append(name)

    class Stop(Exception):
        pass

    async def read_until_an_error() -> None:
        parts = [part("a"), part("b"), part("c")]
        async with contextlib.aclosing(service._one_ahead(parts)) as rows:
            async for _ in rows:
                raise Stop

    with pytest.raises(Stop):
        await read_until_an_error()
    # a was being read, b had been asked for its first row; c was never started
    assert sorted(closed) == ["a", "b"]
