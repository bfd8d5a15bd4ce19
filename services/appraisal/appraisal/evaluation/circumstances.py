"""Downgrade (降级) and veto (否决) circumstances found for a subject, recorded against the
scheme's catalogue with their evidence (Panjin art. 8(三)(四), Zhumadian art. 10–11)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.evaluation import repository
from appraisal.evaluation.models import CircumstanceFinding
from appraisal.evaluation.schemas import CircumstanceCreate, CircumstanceRead
from appraisal.evidence import repository as evidence_files
from appraisal.schemes.pack import Circumstance, Scheme
from appraisal.workflow.guards import require_unpublished
from appraisal.years import roles
from appraisal.years.models import Subject
from appraisal.years.service import YearContext
from shared.errors import Conflict
from shared.writes import WriteContext

Effect = Literal["downgrade", "veto"]


def circumstance_effect(scheme: Scheme, circumstance_id: str) -> tuple[Circumstance, Effect]:
    """The catalogue entry and whether it downgrades or vetoes; 409 when the year's scheme does
    not list it."""
    for item in scheme.downgrade_circumstances:
        if item.id == circumstance_id:
            return item, "downgrade"
    for item in scheme.veto_circumstances:
        if item.id == circumstance_id:
            return item, "veto"
    raise Conflict(f"{scheme.document} lists no circumstance {circumstance_id}.")


async def record_circumstance(
    *, write: WriteContext, context: YearContext, subject: Subject, data: CircumstanceCreate
) -> CircumstanceFinding:
    """A downgrade or veto recorded against the catalogue, with its evidence."""
    session, principal = write.session, write.principal
    roles.require_city_staff(principal, context.year, "Recording downgrade and veto circumstances")
    require_unpublished(subject)
    catalogue, effect = circumstance_effect(context.scheme, data.circumstance)
    if data.evidence_files:
        known = await evidence_files.known_file_ids(session, subject.id, data.evidence_files)
        unknown = [str(item) for item in data.evidence_files if item not in known]
        if unknown:
            raise Conflict(f"No evidence files {', '.join(unknown)} of {subject.code}.")
    finding = CircumstanceFinding(
        subject_id=subject.id,
        circumstance=catalogue.id,
        effect=effect,
        evidence=data.evidence,
        evidence_files=[str(item) for item in data.evidence_files],
        recorded_by=principal.actor,
    )
    await write.add(finding)
    await write.record(
        action="create",
        entity="circumstance",
        entity_id=str(finding.id),
        jurisdiction=subject.jurisdiction,
        after={
            "subject": subject.code,
            "circumstance": catalogue.id,
            "effect": effect,
            "evidence": data.evidence,
        },
        event=None,
    )
    return finding


async def findings_of(*, session: AsyncSession, subject: Subject) -> Sequence[CircumstanceFinding]:
    return await repository.findings_of(session, [subject.id])


def circumstance_read(
    context: YearContext, subject: Subject, finding: CircumstanceFinding
) -> CircumstanceRead:
    catalogue, effect = circumstance_effect(context.scheme, finding.circumstance)
    return CircumstanceRead(
        id=finding.id,
        subject=subject.code,
        circumstance=finding.circumstance,
        effect=effect,
        text=catalogue.text,
        citation=catalogue.citation,
        evidence=finding.evidence,
        evidence_files=finding.evidence_files,
        recorded_by=finding.recorded_by,
        recorded_at=finding.recorded_at,
    )
