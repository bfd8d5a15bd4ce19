"""``platformctl rotate-citizen-id-key``: move every stored citizen ID number to the current key.

The services encrypt new numbers with ``<SVC>_CITIZEN_ID_KEY`` from their start; numbers
stored earlier stay readable through ``<SVC>_CITIZEN_ID_PREVIOUS_KEYS``. This command
re-encrypts the rows still under another key (or under none recorded: rows from before key
ids) in batches, each batch a short transaction of its own, while the services keep answering:

- a row is rewritten with its new ciphertext and key id in one UPDATE, so a reader sees the
  old pair or the new pair, each readable with the keys every replica holds;
- the UPDATE changes neither the version nor anything a caller sees (the ETag stays), and it
  only takes a row still under the key it was read under, so a concurrent change is never
  overwritten;
- stopping at any moment loses nothing: a new run takes the rows still left (resumable), and a
  run with nothing left changes nothing (idempotent);
- the lookup hash is untouched (it has a key of its own), so who is a duplicate never changes.

A key may be retired (taken out of the previous keys) only when no row uses it:
:func:`rows_per_key` says how many rows each key still holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
from cryptography.exceptions import InvalidTag

from shared.citizen_ids import CitizenIdVault
from shared.migrations import quote_identifier

logger = logging.getLogger("platformctl.rotation")

# the tables holding citizen ID ciphertexts, per component
CIPHERTEXT_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "welfare": (("welfare", "persons"),),
    "eldercare": (("eldercare", "persons"),),
}
NO_KEY_ID = "(none recorded)"


@dataclass
class RotationReport:
    component: str
    current_key: str
    moved: int = 0
    batches: int = 0
    unreadable: list[str] = field(default_factory=list)
    finished: bool = False
    rows_per_key: dict[str, int] = field(default_factory=dict)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def rows_per_key(url: str, component: str) -> dict[str, int]:
    """How many rows each key id holds (``(none recorded)``: rows from before key ids)."""
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        return await _rows_per_key(connection, component)
    finally:
        await connection.close()


async def _rows_per_key(connection: asyncpg.Connection, component: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for schema, table in CIPHERTEXT_TABLES[component]:
        name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
        for row in await connection.fetch(
            f"SELECT citizen_id_key_id, count(*) AS n FROM {name} GROUP BY 1 ORDER BY 1"
        ):
            key = row["citizen_id_key_id"] or NO_KEY_ID
            counts[key] = counts.get(key, 0) + row["n"]
    return counts


async def rotate(
    url: str,
    component: str,
    vault: CitizenIdVault,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
    pause_seconds: float = 0.0,
    progress: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    """Re-encrypt under ``vault.current`` every row of ``component`` still under another key.

    ``max_batches`` stops early (the next run resumes); ``pause_seconds`` between batches
    leaves the database to the services on a busy system. Rows no configured key opens are
    skipped and listed by id (never by number): give the service their key and run again.
    """
    current = vault.current.id
    report = RotationReport(component=component, current_key=current)
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        for schema, table in CIPHERTEXT_TABLES[component]:
            name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
            last: object = None
            while max_batches is None or report.batches < max_batches:
                async with connection.transaction():
                    rows = await connection.fetch(
                        f"SELECT id, citizen_id_cipher, citizen_id_key_id FROM {name} "
                        "WHERE citizen_id_key_id IS DISTINCT FROM $1 AND ($2::uuid IS NULL OR id > $2::uuid) "
                        "ORDER BY id LIMIT $3 FOR UPDATE",
                        current,
                        last,
                        batch_size,
                    )
                    if not rows:
                        break
                    updates = []
                    for row in rows:
                        try:
                            cipher, key_id = vault.reencrypt(
                                row["citizen_id_cipher"], row["citizen_id_key_id"]
                            )
                        except InvalidTag:
                            report.unreadable.append(str(row["id"]))
                            continue
                        updates.append((row["id"], cipher, key_id, row["citizen_id_key_id"]))
                    await connection.executemany(
                        f"UPDATE {name} SET citizen_id_cipher = $2, citizen_id_key_id = $3 "
                        "WHERE id = $1 AND citizen_id_key_id IS NOT DISTINCT FROM $4",
                        updates,
                    )
                    last = rows[-1]["id"]
                report.moved += len(updates)
                report.batches += 1
                if progress is not None:
                    progress(report)
                if pause_seconds:
                    await asyncio.sleep(pause_seconds)
            else:
                break  # max_batches reached: resume later
        else:
            report.finished = True
        report.rows_per_key = await _rows_per_key(connection, component)
    finally:
        await connection.close()
    return report


def retirable(counts: dict[str, int], key_id: str) -> bool:
    """A key may leave the previous keys only when no row uses it, nor any row without a key id
    (such a row may be under it)."""
    return counts.get(key_id, 0) == 0 and counts.get(NO_KEY_ID, 0) == 0
