"""Standards in force, adding a version or a correction under the rule for dated data (both
trigger the arrears recalculation), and the history of versions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from shared.dated import Days, VersionCollision
from shared.db import hold_lock
from shared.errors import Conflict, InvalidInput
from shared.jurisdictions import registry
from shared.months import YearMonth
from shared.writes import Event, WriteContext
from welfare.recalculation import service as recalculation
from welfare.recalculation.models import RecalculationRun
from welfare.standards import repository
from welfare.standards.history import (
    DERIVED_PROGRAMS,
    Entry,
    Recorded,
    Residence,
    StandardHistories,
    StandardVersion,
    implausible_amounts,
    version_problems,
)
from welfare.standards.locks import lock_standards
from welfare.standards.models import AddedStandardVersion
from welfare.standards.schemas import (
    CitationIn,
    CitationRead,
    DaysRead,
    RangeChangeRead,
    StandardCorrectionCreate,
    StandardHistoryRead,
    StandardsRead,
    StandardVersionCreate,
)

LOCK = "welfare.standards"


async def current_standards(session: AsyncSession, pack: StandardHistories) -> StandardHistories:
    """The pack's history followed by every version and correction added through the API,
    in the order they were recorded."""
    standards = pack
    rows = await repository.added_versions(session)
    for row in rows:
        version = StandardVersion.model_validate(row.body)
        recorded = Recorded(row.created_by, row.created_at, row.reason, row.document_reference)
        implausible = implausible_amounts(version, "body")
        if implausible:  # recorded before amounts were bounded: priced on no day
            standards = standards.with_not_applied(row.jurisdiction, version, recorded, implausible[0][1])
            continue
        try:
            if row.corrects:
                standards = standards.with_correction(row.jurisdiction, version, row.corrects, recorded)
            else:
                standards = standards.with_version(row.jurisdiction, version, recorded=recorded)
        except VersionCollision as exc:
            standards = standards.with_not_applied(row.jurisdiction, version, recorded, exc.detail)
    return standards


def standards_read(
    standards: StandardHistories,
    jurisdiction: str,
    on: dt.date,
    staleness_days: int,
    residence: Residence | None = None,
) -> StandardsRead:
    found = standards.standards_on(jurisdiction, on, staleness_days, residence)
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
                **standards.formula.model_dump(),
            )
        )

    def amount(program: str) -> Any:
        value = found.values[program]  # type: ignore[index]
        return value.amount if value else None

    tiers = found.values["retiree_1960s"]
    warnings = list(found.warnings)
    by_residence = {
        program: dict(value.by_residence)
        for program, value in found.values.items()
        if value is not None and value.by_residence
    }
    if by_residence and residence is None:
        warnings.append(
            "the standards of this day are set apart for urban (城市) and rural (农村) residents: "
            "see by_residence, or ask with residence=urban or residence=rural (welfare.md, "
            '"Urban and rural standards")'
        )
    return StandardsRead(
        jurisdiction=jurisdiction,
        on=on,
        dibao=amount("dibao"),
        tekun=amount("tekun"),
        orphan_concentrated=amount("orphan_concentrated"),
        orphan_scattered=amount("orphan_scattered"),
        retiree_1960s={str(t): a for t, a in tiers.tiers.items()} if tiers and tiers.tiers else None,
        residence=residence if by_residence else None,
        by_residence=by_residence or None,
        citations=citations,
        formula=standards.formula,
        warnings=warnings,
    )


def _citation(data: CitationIn) -> dict[str, Any]:
    return data.model_dump(exclude_none=True)


def version_from_request(data: StandardVersionCreate) -> StandardVersion:
    """The request as a checked version (422 naming the field when it is not one)."""
    dibao: dict[str, Any] = {"citation": _citation(data.dibao_citation)}
    for name, value in (("amount", data.dibao), ("urban", data.dibao_urban), ("rural", data.dibao_rural)):
        if value is not None:
            dibao[name] = value
    body: dict[str, Any] = {
        "id": data.version_id,
        "effective_from": data.effective_from,
        "effective_to": data.effective_to,
        "published_on": data.published_on,
        "last_confirmed_on": data.last_confirmed_on,
        "dibao": dibao,
    }
    for program in DERIVED_PROGRAMS:
        derived = getattr(data, program)
        if derived is not None:
            body[program] = {
                "multiplier": derived.multiplier,
                "citation": _citation(derived.citation),
                **{
                    name: getattr(derived, name)
                    for name in ("stated_amount", "stated_urban", "stated_rural")
                    if getattr(derived, name) is not None
                },
            }
    if data.retiree_1960s is not None:
        body["retiree_1960s"] = {
            "tiers": data.retiree_1960s.tiers(),
            "citation": _citation(data.retiree_1960s.citation),
        }
    try:
        version = StandardVersion.model_validate(body)
    except ValidationError as exc:
        errors = [
            {"field": _request_field(".".join(str(p) for p in e["loc"])), "message": e["msg"]}
            for e in exc.errors()
        ]
        raise InvalidInput(errors[0]["message"], errors=errors) from exc
    problems = version_problems(version, (), "body")
    if problems:
        raise InvalidInput(
            "; ".join(f"{f}: {p}" for f, p in problems),
            errors=[{"field": _request_field(field), "message": problem} for field, problem in problems],
        )
    return version


def _request_field(field: str) -> str:
    """A field of the stored version as the request names it."""
    field = field if field.startswith("body") else f"body.{field}"
    for stored, asked in (
        ("body.id", "body.version_id"),
        ("body.dibao.amount", "body.dibao"),
        ("body.dibao.urban", "body.dibao_urban"),
        ("body.dibao.rural", "body.dibao_rural"),
    ):
        if field == stored:
            return asked
    return field


async def _recorded(
    write: WriteContext,
    *,
    pack: StandardHistories,
    data: StandardVersionCreate,
    corrects: Sequence[str] = (),
    reason: str | None = None,
    document_reference: str | None = None,
) -> tuple[AddedStandardVersion, StandardHistories]:
    """Check ``data`` against the history under the jurisdiction's lock and insert its row."""
    session = write.session
    version = version_from_request(data)
    # one writer of a jurisdiction's history at a time: each is checked against the last
    await hold_lock(session, f"{LOCK}:{data.jurisdiction}")
    # and no payroll of an overlapping area between this check of months already paid and the
    # commit: a payroll either committed before (the recalculation corrects it) or reads this
    await lock_standards(session, data.jurisdiction)
    namespace = id_namespace(version.id)
    await hold_lock(session, f"{LOCK}.namespace:{namespace}")
    standards = await current_standards(session, pack)
    if standards.find(version.id) is not None or await repository.version_id_taken(session, version.id):
        raise Conflict(f"A standard version {version.id} exists already; versions are never overwritten.")
    owner = namespace_owner(standards, namespace)
    if owner is not None and owner != data.jurisdiction:
        raise Conflict(
            f"Standard version ids beginning {namespace}- name versions of {owner}; a version of "
            f"{data.jurisdiction} takes an id of its own (so no jurisdiction can take, and block, "
            "an id another one will need)."
        )
    recorded = Recorded(write.principal.actor, dt.datetime.now(dt.UTC), reason, document_reference)
    try:
        if corrects:
            after = standards.with_correction(data.jurisdiction, version, corrects, recorded)
        else:
            after = standards.with_version(data.jurisdiction, version, recorded=recorded)
    except VersionCollision as exc:
        raise Conflict(exc.detail, extra={"collides_with": exc.collides_with}) from exc
    row = AddedStandardVersion(
        jurisdiction=data.jurisdiction,
        version_id=version.id,
        body=version.model_dump(mode="json"),
        corrects=list(corrects),
        reason=reason,
        document_reference=document_reference,
        created_by=write.principal.actor,
        created_at=func.clock_timestamp(),  # the order of recording, not of the transactions' starts
    )
    await write.add(row, conflict=f"A standard version {version.id} exists already.")
    await session.refresh(row)
    return row, after


def id_namespace(version_id: str) -> str:
    """What a version id begins with, up to its first hyphen (``panjin`` of ``panjin-2024-4``):
    it belongs to the jurisdiction whose version used it first."""
    return version_id.split("-", 1)[0]


def namespace_owner(standards: StandardHistories, namespace: str) -> str | None:
    """The jurisdiction whose versions (the pack's first, then those recorded, in order) first
    used ``namespace``; None when no version uses it yet."""
    users = [e for e in standards.all_entries() if id_namespace(e.id) == namespace and e.not_applied is None]
    if not users:
        return None
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    first = min(users, key=lambda e: (e.source != "pack", e.recorded.at if e.recorded else epoch))
    return first.jurisdiction


async def _recalculation(
    write: WriteContext, *, jurisdiction: str, effective_from: dt.date, trigger: str, row_id: uuid.UUID
) -> RecalculationRun | None:
    """A recalculation from the version's first month when months since are paid (section 二)."""
    from_month = YearMonth.of(effective_from)
    if not await repository.paid_since(
        write.session, scope=registry().subtree(jurisdiction), from_month=from_month.first_day
    ):
        return None
    return await recalculation.record_run(
        write, jurisdiction=jurisdiction, from_month=from_month, trigger=trigger, standard_version_id=row_id
    )


async def add_version(
    write: WriteContext, *, pack: StandardHistories, data: StandardVersionCreate
) -> tuple[AddedStandardVersion, RecalculationRun | None]:
    """A new version (盘政办发〔2024〕4号 二: months already paid are recalculated). It may fill
    days no version covers or supersede the open-ended version that started before it;
    anything else is 409 naming the version it collides with."""
    row, after = await _recorded(write, pack=pack, data=data)
    entry = after.find(row.version_id)
    assert entry is not None
    await write.record(
        action="create",
        entity="standard_version",
        entity_id=row.version_id,
        jurisdiction=data.jurisdiction,
        after={**row.body, "supersedes": entry.supersedes},
        event=Event(
            type="standard_version.added",
            subject=f"/standards/versions/{row.version_id}",
            jurisdiction=data.jurisdiction,
            data={"version_id": row.version_id, **row.body, "supersedes": entry.supersedes},
        ),
    )
    run = await _recalculation(
        write,
        jurisdiction=data.jurisdiction,
        effective_from=data.effective_from,
        trigger="standard_added",
        row_id=row.id,
    )
    return row, run


async def correct_versions(
    write: WriteContext, *, pack: StandardHistories, data: StandardCorrectionCreate
) -> tuple[AddedStandardVersion, RecalculationRun | None]:
    """A correction: on its days the versions it names stop being in force; the audit row
    keeps what they were in force over before and after; months already paid are
    recalculated, overpayments booked for review (never deducted without a decision)."""
    corrects = list(dict.fromkeys(data.corrects))
    row, after = await _recorded(
        write,
        pack=pack,
        data=data,
        corrects=corrects,
        reason=data.reason,
        document_reference=data.document_reference,
    )
    changes = {}
    for version_id in corrects:
        corrected = after.find(version_id)
        assert corrected is not None
        change = next(c for c in corrected.changes if c.correction == row.version_id)
        changes[version_id] = {
            "before": [str(days) for days in change.before],
            "after": [str(days) for days in change.after],
        }
    await write.record(
        action="correct",
        entity="standard_version",
        entity_id=row.version_id,
        jurisdiction=data.jurisdiction,
        before=changes,
        after={
            **row.body,
            "corrects": corrects,
            "reason": data.reason,
            "document_reference": data.document_reference,
        },
        event=None,
    )
    run = await _recalculation(
        write,
        jurisdiction=data.jurisdiction,
        effective_from=data.effective_from,
        trigger="standard_corrected",
        row_id=row.id,
    )
    return row, run


def history(
    standards: StandardHistories, *, jurisdiction: str | None = None, program: str | None = None
) -> list[StandardHistoryRead]:
    """Every version of the jurisdiction (or every jurisdiction) in recorded order, with what
    superseded or corrected what; ``program``: only versions that state it."""
    found = []
    codes = [jurisdiction] if jurisdiction is not None else sorted(standards.histories)
    for code in codes:
        for entry in standards.entries(code):
            if program is not None and not entry.version.states(program):
                continue
            found.append(_history_read(entry))
    return found


def _days(days: Days) -> DaysRead:
    return DaysRead(effective_from=days.start, effective_to=days.end)


def _history_read(entry: Entry) -> StandardHistoryRead:
    recorded = entry.recorded
    return StandardHistoryRead(
        version_id=entry.id,
        jurisdiction=entry.jurisdiction,
        source=entry.source,
        stated=_days(entry.version.stated),
        in_force=[_days(days) for days in entry.in_force],
        status=entry.status,
        supersedes=entry.supersedes,
        superseded_by=entry.superseded_by,
        corrects=list(entry.corrects),
        corrected_by=list(entry.corrected_by),
        changes=[
            RangeChangeRead(
                correction=change.correction,
                before=[_days(days) for days in change.before],
                after=[_days(days) for days in change.after],
            )
            for change in entry.changes
        ],
        recorded_by=recorded.by if recorded else None,
        recorded_at=recorded.at if recorded else None,
        reason=recorded.reason if recorded else None,
        document_reference=recorded.document_reference if recorded else None,
        not_applied=entry.not_applied,
        body=entry.version.model_dump(mode="json"),
    )
