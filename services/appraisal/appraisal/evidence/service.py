"""Evidence files (佐证材料): type and size checks, SHA-256, storage in the database."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.assessment.schemas import EvidenceRead
from appraisal.evidence import repository
from appraisal.evidence.content import ALLOWED_MEDIA_TYPES, FILE_TYPES, FileType, PackageLimits, check_content
from appraisal.evidence.models import EvidenceFile
from appraisal.workflow.guards import require_stage
from appraisal.workflow.states import AFTER_PUBLICATION, Stage
from appraisal.years import roles
from appraisal.years.models import Subject
from appraisal.years.service import YearContext
from shared.auth import Principal
from shared.errors import Conflict, NotFound, UnsupportedMediaType
from shared.writes import WriteContext

Purpose = Literal["self_evaluation", "circumstance", "rectification"]
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def file_type(declared: str | None, filename: str) -> FileType:
    """The allowed type the upload declares (or, for a generic declaration, its extension
    names); anything else is 415."""
    media_type = (declared or "").split(";")[0].strip().lower()
    for item in FILE_TYPES:
        if media_type == item.media_type:
            return item
    if media_type in ("", "application/octet-stream"):
        lowered = filename.lower()
        for item in FILE_TYPES:
            if lowered.endswith(item.extensions):
                return item
    allowed = ", ".join(item.label for item in FILE_TYPES)
    raise UnsupportedMediaType(
        f"Evidence files must be {allowed}; got {media_type or 'no type'} ({filename}).",
        extra={"allowed": list(ALLOWED_MEDIA_TYPES)},
    )


def safe_filename(name: str | None) -> str:
    base = (name or "evidence").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", _UNSAFE_NAME.sub("_", base)).strip() or "evidence"
    return base[-255:]


def _check_writer(context: YearContext, subject: Subject, purpose: Purpose, principal: Principal) -> None:
    if purpose == "circumstance":
        roles.require_city_staff(principal, context.year, "Evidence of a downgrade or veto")
        if Stage(subject.stage) in AFTER_PUBLICATION:
            raise Conflict(f"The result of {subject.code} is published: reopen it first.")
        return
    roles.require_own_record(principal, context.year, subject, "Its evidence")
    if purpose == "self_evaluation":
        require_stage(context, subject, Stage.SELF_EVALUATION, "Self-evaluation evidence")
    elif Stage(subject.stage) not in AFTER_PUBLICATION:
        raise Conflict(
            f"Rectification evidence follows the publication; {subject.code} is at {subject.stage}."
        )


async def store(
    *,
    write: WriteContext,
    context: YearContext,
    subject: Subject,
    purpose: Purpose,
    filename: str | None,
    declared_type: str | None,
    content: bytes,
    limits: PackageLimits,
) -> EvidenceFile:
    """Check who and when, the type (declared and by its content) and keep the file."""
    principal = write.principal
    _check_writer(context, subject, purpose, principal)
    filename = safe_filename(filename)
    kind = file_type(declared_type, filename)
    check_content(kind, content, filename, limits)
    evidence = EvidenceFile(
        subject_id=subject.id,
        purpose=purpose,
        filename=filename,
        content_type=kind.media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=principal.actor,
    )
    await write.add(evidence)
    await write.record(
        action="upload",
        entity="evidence",
        entity_id=str(evidence.id),
        jurisdiction=subject.jurisdiction,
        after={
            "subject": subject.code,
            "purpose": purpose,
            "filename": filename,
            "content_type": kind.media_type,
            "size": evidence.size,
            "sha256": evidence.sha256,
        },
        event=None,
    )
    return evidence


def require_reader(context: YearContext, subject: Subject, principal: Principal) -> None:
    if not roles.reads_own_records(principal, context.year, subject):
        raise NotFound(f"No subject {subject.code} in {context.label}.")


async def files(
    *, session: AsyncSession, context: YearContext, subject: Subject, principal: Principal
) -> Sequence[EvidenceFile]:
    """The subject's evidence files (without their bytes), for those who read its records."""
    require_reader(context, subject, principal)
    return await repository.files_of(session, subject.id)


async def file_to_download(
    *,
    session: AsyncSession,
    context: YearContext,
    subject: Subject,
    evidence_id: uuid.UUID,
    principal: Principal,
) -> EvidenceFile:
    """One evidence file with its bytes, for those who read the subject's records."""
    require_reader(context, subject, principal)
    evidence = await repository.file_with_content(session, subject.id, evidence_id)
    if evidence is None:
        raise NotFound(f"No evidence file {evidence_id} of {subject.code}.")
    return evidence


def evidence_read(subject: Subject, evidence: EvidenceFile) -> EvidenceRead:
    return EvidenceRead(
        id=evidence.id,
        subject=subject.code,
        purpose=evidence.purpose,
        filename=evidence.filename,
        content_type=evidence.content_type,
        size=evidence.size,
        sha256=evidence.sha256,
        uploaded_by=evidence.uploaded_by,
        uploaded_at=evidence.uploaded_at,
    )
