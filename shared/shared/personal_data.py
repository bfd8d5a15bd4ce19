"""Who read a citizen ID number: every answer that reveals one in full is recorded.

Callers with ``{service}:pii`` see citizen ID numbers in full; everyone else sees them masked.
Each full number in an answer leaves a row in the service's ``personal_data_access`` log: who,
which record, when, the request id, the path, and the purpose the caller states in the
``Access-Purpose`` header (个人信息保护法: processing has a stated purpose and is recorded).
An account with ``{service}:audit`` reads the log at ``GET /api/{service}/v1/personal-data-access``.

A router declares ``personal_data: PersonalDataDep`` and passes it to the code that builds the
answer, which calls :meth:`PersonalDataReader.citizen_id` for each number; the rows are written
in the request's transaction when the handler returns.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.access import jurisdiction_filter
from shared.auth import CurrentPrincipal, Principal, require_scope
from shared.citizen_ids import CitizenIdVault, canonical_form, mask
from shared.db import SessionDep
from shared.errors import InvalidInput
from shared.logs import request_id_var
from shared.pagination import Page, PageDep
from shared.problems import problem_responses

PURPOSE_HEADER = "Access-Purpose"
MAX_PURPOSE_LENGTH = 200


def personal_data_access_table(metadata: MetaData) -> Table:
    """Append-only (the migration adds the trigger), like the audit log."""
    return Table(
        "personal_data_access",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor", String(200), nullable=False),
        Column("client_id", String(200)),
        Column("request_id", String(128)),
        Column("path", Text, nullable=False),
        Column("entity", String(64), nullable=False),
        Column("entity_id", String(200), nullable=False),
        Column("jurisdiction", String(32)),
        Column("purpose", String(MAX_PURPOSE_LENGTH), comment="as the caller stated; null when not stated"),
    )


@dataclass
class PersonalDataReader:
    """Reveals citizen ID numbers to callers who may see them, and records each one revealed."""

    principal: Principal
    vault: CitizenIdVault
    scope: str
    path: str
    purpose: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)

    masked_only: bool = False

    @property
    def may_reveal(self) -> bool:
        return not self.masked_only and self.principal.has_scope(self.scope)

    def for_stored_answer(self) -> PersonalDataReader:
        """A reader that shows every number masked, for answers kept under an Idempotency-Key:
        a stored answer must not hold a number in clear, nor its replay show one unrecorded."""
        return PersonalDataReader(
            principal=self.principal,
            vault=self.vault,
            scope=self.scope,
            path=self.path,
            purpose=self.purpose,
            masked_only=True,
        )

    def citizen_id_of(self, person: StoredPerson) -> str:
        """A registered person's number, as :meth:`citizen_id` shows it."""
        return self.citizen_id(
            cipher=person.citizen_id_cipher,
            masked=person.citizen_id_masked,
            key_id=person.citizen_id_key_id,
            entity="person",
            entity_id=person.id,
            jurisdiction=person.jurisdiction,
        )

    def citizen_id(
        self,
        *,
        cipher: bytes,
        masked: str,
        key_id: str | None,
        entity: str,
        entity_id: object,
        jurisdiction: str | None,
    ) -> str:
        """The number in full for a ``{service}:pii`` caller (recorded), else the masked form."""
        if not self.may_reveal:
            return masked
        shown = self.vault.reveal(cipher, masked, key_id)
        if shown != masked:
            self.pending.append(
                {
                    "actor": self.principal.actor,
                    "client_id": self.principal.client_id,
                    "request_id": request_id_var.get(),
                    "path": self.path,
                    "entity": entity,
                    "entity_id": str(entity_id),
                    "jurisdiction": jurisdiction,
                    "purpose": self.purpose,
                }
            )
        return shown


AccessPurpose = Annotated[
    str | None,
    Header(
        alias=PURPOSE_HEADER,
        max_length=MAX_PURPOSE_LENGTH,
        description="Why you read personal data, recorded with every citizen ID number the answer shows "
        "in full. HTTP headers carry only ASCII: percent-encode other text as UTF-8 "
        "(低保年审 → %E4%BD%8E%E4%BF%9D%E5%B9%B4%E5%AE%A1).",
    ),
]


# 15 to 18 digits (or a final X), possibly grouped by spaces or hyphens: a citizen ID number
# (or an old 15-digit one) someone wrote into a stated purpose
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(?:[0-9][ -]?){14,17}[0-9Xx](?![0-9A-Za-z])")


def masked_purpose(text: str) -> str:
    """A stated purpose as the access log keeps it: NFKC (fullwidth digits read as digits),
    every citizen-ID-like number masked as answers mask numbers (first 4 and last 4 kept).
    The log of who saw which number must not itself hold a number in full."""
    folded = unicodedata.normalize("NFKC", text)
    masked = _ID_LIKE.sub(lambda found: mask(re.sub(r"[ -]", "", found.group())), folded)
    return masked[:MAX_PURPOSE_LENGTH]  # NFKC may lengthen a text (㍿ is 株式会社)


async def personal_data_reader(
    request: Request, session: SessionDep, principal: CurrentPrincipal, purpose: AccessPurpose = None
) -> AsyncIterator[PersonalDataReader]:
    service = request.app.state.settings.service_name
    try:
        stated = unquote(purpose, errors="strict").strip() or None if purpose else None
    except UnicodeDecodeError as exc:
        raise InvalidInput.field("header.access-purpose", "percent-encoded text must be UTF-8") from exc
    stated = masked_purpose(stated) if stated else None
    reader = PersonalDataReader(
        principal=principal,
        vault=request.app.state.citizen_id_vault,
        scope=f"{service}:pii",
        path=request.url.path,
        purpose=stated,
    )
    yield reader
    # after the handler, before the request's session commits (its teardown runs after this one)
    if reader.pending:
        table: Table = request.app.state.personal_data_access_table
        await session.execute(table.insert(), reader.pending)


PersonalDataDep = Annotated[PersonalDataReader, Depends(personal_data_reader, scope="function")]


async def citizen_id_vault(request: Request) -> CitizenIdVault:
    """The service's vault (``app.state.citizen_id_vault``, set where the service starts)."""
    vault: CitizenIdVault = request.app.state.citizen_id_vault
    return vault


VaultDep = Annotated[CitizenIdVault, Depends(citizen_id_vault)]


class PersonalDataAccess(BaseModel):
    id: int
    occurred_at: dt.datetime
    actor: str
    client_id: str | None
    request_id: str | None
    path: str
    entity: str
    entity_id: str
    jurisdiction: str | None
    purpose: str | None


def personal_data_access_router(service: str, table: Table) -> APIRouter:
    router = APIRouter(prefix=f"/api/{service}/v1", tags=[f"{service}-audit"])
    auditor = Depends(require_scope(f"{service}:audit"))

    @router.get(
        "/personal-data-access",
        response_model=Page[PersonalDataAccess],
        summary="Who saw which citizen ID number in full, when and why (for auditors)",
        responses=problem_responses(422),
    )
    async def list_personal_data_access(
        session: SessionDep,
        page: PageDep,
        principal: Principal = auditor,
        entity_id: Annotated[str | None, Query(max_length=200)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Page[PersonalDataAccess]:
        query = select(table)
        if not principal.sees_everything:
            query = query.where(table.c.jurisdiction.in_(principal.visible_jurisdictions()))
        if entity_id is not None:
            query = query.where(table.c.entity_id == entity_id)
        if actor is not None:
            query = query.where(table.c.actor == actor)
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await session.execute(query.order_by(table.c.id.desc()).limit(page.limit).offset(page.offset))
        return Page.of([PersonalDataAccess.model_validate(row._mapping) for row in rows], total, page)

    return router


class CitizenIdColumns:
    """A person register's citizen ID number (for a model): encrypted, with a keyed hash for
    look-ups (unique: one number, one person), the key that made the ciphertext, and the masked
    form shown to callers without ``{service}:pii``."""

    citizen_id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    citizen_id_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    citizen_id_key_id: Mapped[str | None] = mapped_column(
        String(32), index=True, comment="the key that made the ciphertext (shared.citizen_ids.DataKey.id)"
    )
    citizen_id_masked: Mapped[str] = mapped_column(String(18))


# -- duplicates registered before numbers were normalised -----------------------------------


class StoredPerson(Protocol):
    id: Any
    jurisdiction: str
    name: str
    citizen_id_hash: str
    citizen_id_cipher: bytes
    citizen_id_key_id: str | None
    citizen_id_masked: str
    created_at: dt.datetime


@dataclass(frozen=True)
class DuplicateMember:
    id: Any
    jurisdiction: str
    name: str
    citizen_id: str
    normalised: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class DuplicateGroup:
    citizen_id: str
    persons: list[DuplicateMember]


SCAN_BATCH = 2_000


async def find_duplicates(
    session: AsyncSession,
    model: type[StoredPerson],
    *,
    in_scope: Select[Any],
    vault: CitizenIdVault,
) -> tuple[int, list[DuplicateGroup]]:
    """Records whose numbers are one number once normalised, and records whose stored number is
    not in the normal form (kept before every input was normalised: fullwidth, Arabic-Indic or
    mixed digits, a lower-case x, white space). Such a record has a lookup hash of its own, so
    neither the unique hash nor a lookup by the ASCII number finds it.

    Numbers already normal are unique by the hash, so a group always holds at least one record
    not in the normal form: the scan decrypts every record of ``in_scope`` (keyset batches),
    keeps only those, then looks their normal forms up by hash. Nothing is merged.
    Returns the number of records scanned and the groups, oldest record first.
    """
    columns = model  # the ORM class: its attributes are the columns
    odd: dict[str, list[StoredPerson]] = {}
    scanned, last = 0, None
    while True:
        query = in_scope.order_by(columns.id).limit(SCAN_BATCH)
        if last is not None:
            query = query.where(columns.id > last)
        batch = list(await session.scalars(query))
        if not batch:
            break
        for person in batch:
            number = vault.reveal(
                person.citizen_id_cipher, person.citizen_id_masked, person.citizen_id_key_id
            )
            if number != person.citizen_id_masked and canonical_form(number) != number:
                odd.setdefault(canonical_form(number), []).append(person)
        scanned += len(batch)
        last = batch[-1].id
    hashes = {canonical: vault.lookup_hashes(canonical) for canonical in odd}
    normal: dict[str, StoredPerson] = {}
    if hashes:
        every = [h for found in hashes.values() for h in found]
        query = in_scope.where(columns.citizen_id_hash.in_(every))  # type: ignore[attr-defined]
        by_hash = {p.citizen_id_hash: p for p in await session.scalars(query)}
        for canonical, candidates in hashes.items():
            for candidate in candidates:
                if candidate in by_hash:
                    normal[canonical] = by_hash[candidate]
                    break
    groups = []
    for canonical, records in odd.items():
        members = [(p, False) for p in records]
        if canonical in normal:
            members.append((normal[canonical], True))
        members.sort(key=lambda m: (m[0].created_at, str(m[0].id)))
        groups.append(
            DuplicateGroup(
                citizen_id=mask(canonical),
                persons=[
                    DuplicateMember(
                        id=p.id,
                        jurisdiction=p.jurisdiction,
                        name=p.name,
                        citizen_id=p.citizen_id_masked,
                        normalised=is_normal,
                        created_at=p.created_at,
                    )
                    for p, is_normal in members
                ],
            )
        )
    groups.sort(key=lambda g: (g.persons[0].created_at, str(g.persons[0].id)))
    return scanned, groups


class DuplicateMemberRead(BaseModel):
    id: uuid.UUID
    jurisdiction: str
    name: str
    citizen_id: str = Field(description="masked, as stored")
    normalised: bool = Field(
        description="the stored number is in the normal form (ASCII digits); false: registered before "
        "numbers were normalised, not found by a lookup of the number"
    )
    created_at: dt.datetime


class DuplicateGroupRead(BaseModel):
    citizen_id: str = Field(description="the normal form of the number, masked")
    persons: list[DuplicateMemberRead]


class DuplicateReport(BaseModel):
    """Records to merge or correct by hand; nothing is merged automatically."""

    scanned: int = Field(description="records of your area read")
    groups: list[DuplicateGroupRead]

    @classmethod
    def of(cls, scanned: int, groups: list[DuplicateGroup]) -> DuplicateReport:
        return cls.model_validate({"scanned": scanned, "groups": groups}, from_attributes=True)


class DuplicatePersonsReport(Protocol):
    """A register's :func:`find_duplicates` over the persons the caller may see (of
    ``jurisdiction``, when given, within the caller's area)."""

    async def __call__(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        vault: CitizenIdVault,
        jurisdiction: str | None = None,
    ) -> DuplicateReport: ...


def person_duplicates_router(
    *,
    admin: Callable[..., Awaitable[Principal]],
    report: DuplicatePersonsReport,
    jurisdiction_filter: Callable[..., Awaitable[str | None]] = jurisdiction_filter,
) -> APIRouter:
    """``GET /person-duplicates`` of a person register, to include in its router: ``admin`` the
    register's admin scope dependency, ``report`` its duplicate scan, ``jurisdiction_filter``
    the dependency that reads its ``jurisdiction`` query filter (the platform's by default)."""
    router = APIRouter()

    @router.get(
        "/person-duplicates",
        response_model=DuplicateReport,
        summary="Persons registered twice under one number in other digits, or under a number not in "
        "the normal form (for staff to merge by hand; nothing is merged)",
        responses=problem_responses(403, 422),
    )
    async def list_duplicate_persons(
        session: SessionDep,
        vault: VaultDep,
        principal: Principal = Depends(admin),
        jurisdiction: str | None = Depends(jurisdiction_filter),
    ) -> DuplicateReport:
        return await report(session, principal=principal, vault=vault, jurisdiction=jurisdiction)

    return router
