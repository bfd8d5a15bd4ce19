"""``platformctl rotate-citizen-id-key`` under write load: every row stays readable at every moment.

A welfare schema of its own holds persons under an AES key, some from before key ids (no key
id recorded). The service's keys then change to an SM4 key with the AES key as a previous one
(a move between algorithms, as commercial cryptography asks). While writers keep registering
persons under the new key and changing names (compare-and-set on the version, as the
service does), and readers keep decrypting every row with exactly the keys a service replica
holds, the rotation runs in small batches: stopped after a few (the old key may not be retired
then), resumed to the end, run again (nothing left to do). No read ever fails, no change is
lost, the lookup hashes stay as they were, and then the old key may be retired.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from platformctl import cli, rotation
from platformctl.database import database_name, drop_database, ensure_database, with_database
from platformctl.migrate import upgrade_all
from shared.citizen_ids import CitizenIdVault, check_digit

OLD_KEY = base64.b64encode(b"o" * 32).decode()
NEW_KEY = base64.b64encode(b"n" * 16).decode()
LOOKUP_KEY = base64.b64encode(b"l" * 32).decode()
OLD = CitizenIdVault(OLD_KEY, lookup_key=LOOKUP_KEY)
# what every service replica holds once the new key is rolled out
NEW = CitizenIdVault(NEW_KEY, algorithm="sm4-gcm", previous_keys=[OLD_KEY], lookup_key=LOOKUP_KEY)
INITIAL_ROWS = 400


def number(i: int) -> str:
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=i // 1000)
    first_17 = f"211102{birth:%Y%m%d}{i % 1000:03d}"
    return first_17 + check_digit(first_17)


@pytest.fixture
async def side_database(database_url: str) -> AsyncIterator[str]:
    url = with_database(database_url, f"{database_name(database_url)}_rotation")
    await ensure_database(url, recreate=True)
    await asyncio.to_thread(upgrade_all, url, ["welfare"])
    yield url
    await drop_database(url)


async def insert(
    connection: asyncpg.Connection, vault: CitizenIdVault, i: int, *, key_id: bool = True
) -> uuid.UUID:
    protected = vault.protect(number(i))
    person_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO welfare.persons (id, jurisdiction, name, citizen_id_hash, citizen_id_cipher, "
        "citizen_id_key_id, citizen_id_masked, version) VALUES ($1, '211102', $2, $3, $4, $5, $6, 1)",
        person_id,
        f"person {i}",
        protected.lookup_hash,
        protected.cipher,
        protected.key_id if key_id else None,
        protected.masked,
    )
    return person_id


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_rotation_under_write_load_keeps_every_row_readable(
    side_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = dsn(side_database)
    setup = await asyncpg.connect(url)
    expected: dict[uuid.UUID, str] = {}
    for i in range(INITIAL_ROWS):
        # one row in eight from before key ids: no key id recorded
        expected[await insert(setup, OLD, i, key_id=i % 8 != 0)] = number(i)
    hashes_before = dict(await setup.fetch("SELECT id, citizen_id_hash FROM welfare.persons"))
    await setup.close()

    stop = asyncio.Event()
    failures: list[str] = []
    reads = 0
    renamed: dict[uuid.UUID, str] = {}
    read_more = asyncio.Event()
    target: list[int] = []

    async def reader() -> None:
        nonlocal reads
        connection = await asyncpg.connect(url)
        try:
            while not stop.is_set():
                for row in await connection.fetch(
                    "SELECT id, citizen_id_cipher, citizen_id_key_id FROM welfare.persons"
                ):
                    try:
                        shown = NEW.decrypt(row["citizen_id_cipher"], row["citizen_id_key_id"])
                    except Exception as exc:
                        failures.append(f"{row['id']}: {type(exc).__name__}")
                        continue
                    if row["id"] in expected and shown != expected[row["id"]]:
                        failures.append(f"{row['id']}: another number")
                reads += 1
                if target and reads >= target[-1]:
                    read_more.set()
        finally:
            await connection.close()

    async def writer(start: int) -> None:
        connection = await asyncpg.connect(url)
        try:
            i = start
            while not stop.is_set():
                # a new registration, as the service makes it: under the new key at once
                person_id = await insert(connection, NEW, i)
                expected[person_id] = number(i)
                # a name change of an old row: compare-and-set on the version, as the service
                target = list(expected)[i % INITIAL_ROWS]
                version = await connection.fetchval(
                    "SELECT version FROM welfare.persons WHERE id = $1", target
                )
                changed = await connection.execute(
                    "UPDATE welfare.persons SET name = $2, version = version + 1 WHERE id = $1 AND version = $3",
                    target,
                    f"renamed {i}",
                    version,
                )
                if changed == "UPDATE 1":
                    renamed[target] = f"renamed {i}"
                i += 1
                await asyncio.sleep(0)
        finally:
            await connection.close()

    load = [asyncio.create_task(reader()) for _ in range(2)]
    load += [asyncio.create_task(writer(start)) for start in (100_000, 200_000)]
    try:
        # a first run stopped after three batches: resumable, the old key still in use
        first = await rotation.rotate(side_database, "welfare", NEW, batch_size=20, max_batches=3)
        assert first.batches == 3
        assert first.moved == 60
        assert not first.finished
        assert not rotation.retirable(first.rows_per_key, OLD.current.id)
        assert first.rows_per_key[OLD.current.id] > 0
        assert first.rows_per_key[rotation.NO_KEY_ID] > 0

        monkeypatch.setenv("WELFARE_DATABASE_URL", side_database)
        monkeypatch.setenv("WELFARE_CITIZEN_ID_KEY", NEW_KEY)
        monkeypatch.setenv("WELFARE_CITIZEN_ID_ALGORITHM", "sm4-gcm")
        monkeypatch.setenv("WELFARE_CITIZEN_ID_PREVIOUS_KEYS", f'["{OLD_KEY}"]')
        monkeypatch.setenv("WELFARE_CITIZEN_ID_LOOKUP_KEY", LOOKUP_KEY)
        refused = await asyncio.to_thread(
            cli.main, ["rotate-citizen-id-key", "--component", "welfare", "--retire", OLD.current.id]
        )
        assert refused == 1
        said = capsys.readouterr()
        assert f"{OLD.current.id} may still be in use by" in said.err
        assert rotation.NO_KEY_ID in said.out

        # resumed to the end while the writers keep writing
        rest = await rotation.rotate(side_database, "welfare", NEW, batch_size=20)
        assert rest.finished
        assert not rest.unreadable
        assert rest.moved == INITIAL_ROWS - 60
        # a second complete run has nothing to do
        again = await rotation.rotate(side_database, "welfare", NEW, batch_size=20)
        assert again.finished
        assert again.moved == 0
        # three more full reads with the writers still going
        more_reads = reads + 3
        read_more.clear()
        target.append(more_reads)
        await asyncio.wait(
            [asyncio.create_task(read_more.wait()), *load], return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        stop.set()
        await asyncio.gather(*load)

    assert failures == []
    assert reads >= more_reads
    check = await asyncpg.connect(url)
    try:
        rows = await check.fetch(
            "SELECT id, name, citizen_id_hash, citizen_id_cipher, citizen_id_key_id FROM welfare.persons"
        )
    finally:
        await check.close()
    assert {r["citizen_id_key_id"] for r in rows} == {NEW.current.id}
    assert NEW.current.id.startswith("sm4-")
    assert len(rows) == len(expected) > INITIAL_ROWS
    for row in rows:
        assert NEW.current.decrypt(row["citizen_id_cipher"]).decode() == expected[row["id"]]
        if row["id"] in hashes_before:  # the lookup hash has its own key: untouched
            assert row["citizen_id_hash"] == hashes_before[row["id"]]
        if row["id"] in renamed:  # no name change lost to the rotation
            assert row["name"].startswith("renamed")

    counts = await rotation.rows_per_key(side_database, "welfare")
    assert counts == {NEW.current.id: len(rows)}
    assert rotation.retirable(counts, OLD.current.id)
    assert (
        await asyncio.to_thread(
            cli.main, ["rotate-citizen-id-key", "--component", "welfare", "--retire", OLD.current.id]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert f"no row uses {OLD.current.id}" in printed
    assert f"{NEW.current.id}" in printed
    assert f"{len(rows)} rows  (current)" in printed
    assert os.environ["WELFARE_CITIZEN_ID_KEY"] == NEW_KEY
