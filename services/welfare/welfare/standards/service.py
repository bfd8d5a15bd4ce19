"""Standards in force, and adding a version (checked like the packs; it triggers arrears)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import Conflict, InvalidInput
from shared.jurisdictions import registry
from shared.months import YearMonth
from shared.writes import Event, WriteContext
from welfare.db import platform_tables
from welfare.payroll.models import LedgerEntry
from welfare.recalculation import service as recalculation
from welfare.recalculation.models import RecalculationRun
from welfare.standards.book import StandardsBook, StandardVersion, version_problems
from welfare.standards.models import AddedStandardVersion
from welfare.standards.schemas import CitationIn, CitationRead, StandardsRead, StandardVersionCreate


async def current_book(session: AsyncSession, pack: StandardsBook) -> StandardsBook:
    """The pack's versions plus every version added through the API."""
    book = pack
    rows = await session.scalars(select(AddedStandardVersion).order_by(AddedStandardVersion.created_at))
    for row in rows:
        book = book.with_version(row.jurisdiction, StandardVersion.model_validate(row.body))
    return book


def standards_read(book: StandardsBook, jurisdiction: str, on: dt.date, staleness_days: int) -> StandardsRead:
    found = book.standards_on(jurisdiction, on, staleness_days)
    citations = [
        CitationRead(
            program=program,
            version=value.version_id,
            jurisdiction=value.jurisdiction,
            **value.citation.model_dump(),
        )
        for program, value in found.values.items()
        if value is not None
    ]
    if found.values["dibao"] is not None:
        citations.append(
            CitationRead(
                program="dibao_formula",
                version="national",
                jurisdiction="national",
                **book.formula.model_dump(),
            )
        )

    def amount(program: str) -> Any:
        value = found.values[program]  # type: ignore[index]
        return value.amount if value else None

    tiers = found.values["retiree_1960s"]
    return StandardsRead(
        jurisdiction=jurisdiction,
        on=on,
        dibao=amount("dibao"),
        tekun=amount("tekun"),
        orphan_concentrated=amount("orphan_concentrated"),
        orphan_scattered=amount("orphan_scattered"),
        retiree_1960s={str(t): a for t, a in tiers.tiers.items()} if tiers and tiers.tiers else None,
        citations=citations,
        formula=book.formula,
        warnings=found.warnings,
    )


def _citation(data: CitationIn) -> dict[str, Any]:
    return data.model_dump(exclude_none=True)


def version_from_request(data: StandardVersionCreate) -> StandardVersion:
    body: dict[str, Any] = {
        "id": data.version_id,
        "effective_from": data.effective_from,
        "effective_to": data.effective_to,
        "published_on": data.published_on,
        "last_confirmed_on": data.last_confirmed_on,
        "dibao": {"amount": data.dibao, "citation": _citation(data.dibao_citation)},
    }
    for program in ("tekun", "orphan_concentrated", "orphan_scattered"):
        derived = getattr(data, program)
        if derived is not None:
            body[program] = {
                "multiplier": derived.multiplier,
                "stated_amount": derived.stated_amount,
                "citation": _citation(derived.citation),
            }
    if data.retiree_1960s is not None:
        body["retiree_1960s"] = {
            "tiers": data.retiree_1960s.tiers(),
            "citation": _citation(data.retiree_1960s.citation),
        }
    try:
        return StandardVersion.model_validate(body)
    except ValidationError as exc:
        errors = [
            {"field": "body." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise InvalidInput(errors[0]["message"], errors=errors) from exc


async def add_version(
    session: AsyncSession, *, principal: Principal, pack: StandardsBook, data: StandardVersionCreate
) -> tuple[AddedStandardVersion, RecalculationRun | None]:
    version = version_from_request(data)
    book = await current_book(session, pack)
    if any(v.id == version.id for versions in book.versions.values() for v in versions):
        raise Conflict(f"A standard version {version.id} exists already; versions are never overwritten.")
    problems = version_problems(version, book.superseded_by(data.jurisdiction, version), "body")
    if problems:
        raise InvalidInput(
            "; ".join(f"{f}: {p}" for f, p in problems),
            errors=[
                {"field": field.replace("body.id", "body.version_id"), "message": problem}
                for field, problem in problems
            ],
        )
    row = AddedStandardVersion(
        jurisdiction=data.jurisdiction,
        version_id=version.id,
        body=version.model_dump(mode="json"),
        created_by=principal.actor,
    )
    session.add(row)
    await session.flush()
    write = WriteContext.for_job(
        session=session, principal=principal, tables=platform_tables, service="welfare"
    )
    await write.record(
        action="create",
        entity="standard_version",
        entity_id=version.id,
        jurisdiction=data.jurisdiction,
        after=row.body,
        event=Event(
            type="standard_version.added",
            subject=f"/standards/versions/{version.id}",
            jurisdiction=data.jurisdiction,
            data={"version_id": version.id, **row.body},
        ),
    )
    run = None
    from_month = YearMonth.of(data.effective_from)
    paid_since = await session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(
            LedgerEntry.month >= from_month.first_day,
            LedgerEntry.jurisdiction.in_(registry().subtree(data.jurisdiction)),
        )
        .limit(1)
    )
    if paid_since:
        # months already paid at another standard: recalculate and book the arrears (section 二)
        run = await recalculation.request_run(
            session,
            principal=principal,
            jurisdiction=data.jurisdiction,
            from_month=from_month,
            trigger="standard_added",
            standard_version_id=row.id,
        )
    return row, run
