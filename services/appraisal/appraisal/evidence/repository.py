"""Queries for evidence files (their bytes are loaded only for a download)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from appraisal.evidence.models import EvidenceFile


async def files_of(session: AsyncSession, subject_id: uuid.UUID) -> Sequence[EvidenceFile]:
    """A subject's evidence files, oldest first, without their bytes."""
    query = (
        select(EvidenceFile).where(EvidenceFile.subject_id == subject_id).order_by(EvidenceFile.uploaded_at)
    )
    return (await session.scalars(query)).all()


async def file_with_content(
    session: AsyncSession, subject_id: uuid.UUID, evidence_id: uuid.UUID
) -> EvidenceFile | None:
    query = select(EvidenceFile).where(EvidenceFile.id == evidence_id, EvidenceFile.subject_id == subject_id)
    return (await session.scalars(query.options(undefer(EvidenceFile.content)))).one_or_none()


async def known_file_ids(
    session: AsyncSession, subject_id: uuid.UUID, evidence_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``evidence_ids`` are evidence files of the subject."""
    query = select(EvidenceFile.id).where(
        EvidenceFile.id.in_(list(evidence_ids)), EvidenceFile.subject_id == subject_id
    )
    return set(await session.scalars(query))
