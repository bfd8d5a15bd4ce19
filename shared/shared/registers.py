"""One citizen ID number, one person: the duplicate check (查重) every person register makes.

A number registered in the caller's own area is refused as registered there. A number
registered in another county's area is refused saying only that (no name, no place, no
record id), and each such answer is audited in a transaction of its own: the refusal changes
nothing else, yet who learnt that a number is registered is on record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.citizen_ids import CitizenIdVault, ProtectedId
from shared.errors import Conflict
from shared.writes import Event, WriteContext

REGISTERED_HERE = "A person with this citizen ID number is already registered in your area."
REGISTERED_ELSEWHERE = (
    "This citizen ID number is already registered in another jurisdiction's register. Ask that "
    "office to move the person to yours; their details are not shown here."
)
REGISTERED = "A person with this citizen ID number is already registered."


class RegisteredPerson(Protocol):
    id: uuid.UUID
    jurisdiction: str


class NewPerson(RegisteredPerson, Protocol):
    name: str
    citizen_id_masked: str


PersonT = TypeVar("PersonT", bound=RegisteredPerson)
NewPersonT = TypeVar("NewPersonT", bound=NewPerson)


async def refuse_a_registered_number(
    write: WriteContext, *, existing: RegisteredPerson | None, masked: str, asked_for: str
) -> None:
    """Nothing when ``existing`` is None (the number is not registered), else 409."""
    if existing is None:
        return
    if write.principal.can_access(existing.jurisdiction):
        raise Conflict(REGISTERED_HERE)
    await write.record_apart(
        action="refused_registered_elsewhere",
        entity="person",
        entity_id=existing.id,
        jurisdiction=existing.jurisdiction,
        after={"citizen_id": masked, "asked_for_jurisdiction": asked_for},
    )
    raise Conflict(REGISTERED_ELSEWHERE)


async def registered_person(
    session: AsyncSession, model: type[PersonT], *, vault: CitizenIdVault, citizen_id: str
) -> PersonT | None:
    """The person of the register ``model`` stored under ``citizen_id`` (its lookup hash under
    the current lookup key, or under an earlier one while the hashes are being re-made)."""
    hashes = vault.lookup_hashes(citizen_id)
    query = select(model).where(model.citizen_id_hash.in_(hashes))  # type: ignore[attr-defined]
    found: PersonT | None = await session.scalar(query.limit(1))
    return found


async def protect_a_new_number(
    write: WriteContext,
    model: type[RegisteredPerson],
    *,
    vault: CitizenIdVault,
    citizen_id: str,
    jurisdiction: str,
) -> ProtectedId:
    """``citizen_id`` protected for a new person of ``jurisdiction`` in the register ``model``;
    409 when the number is registered already (:func:`refuse_a_registered_number`)."""
    protected = vault.protect(citizen_id)
    existing = await registered_person(write.session, model, vault=vault, citizen_id=citizen_id)
    await refuse_a_registered_number(
        write, existing=existing, masked=protected.masked, asked_for=jurisdiction
    )
    return protected


async def add_new_person(
    write: WriteContext,
    person: NewPersonT,
    *,
    vault: CitizenIdVault,
    citizen_id: str,
    after: dict[str, Any],
    event: Callable[[NewPersonT], Event] | None,
) -> None:
    """INSERT ``person``, a new row of a person register, with ``citizen_id`` stored protected
    (:meth:`shared.citizen_ids.ProtectedId.columns`), and its audit row: the name and the masked
    number, then the register's own fields ``after``; ``event`` makes the event published with
    it, of the stored person (``None``: none). 409 when the number is registered already
    (:func:`protect_a_new_number`), or by a twin request at the same moment (the unique hash)."""
    protected = await protect_a_new_number(
        write, type(person), vault=vault, citizen_id=citizen_id, jurisdiction=person.jurisdiction
    )
    for column, value in protected.columns().items():
        setattr(person, column, value)
    await write.add(person, conflict=REGISTERED)
    await write.record(
        action="create",
        entity="person",
        entity_id=person.id,
        jurisdiction=person.jurisdiction,
        after={"name": person.name, "citizen_id": person.citizen_id_masked, **after},
        event=event(person) if event is not None else None,
    )
