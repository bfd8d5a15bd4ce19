"""HTTP for evidence files: multipart upload (413 too large, 415 wrong type), list, download."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from appraisal.access import Reader, Writer
from appraisal.assessment.schemas import EvidenceRead
from appraisal.config import Settings
from appraisal.evidence import service
from appraisal.evidence.models import EvidenceFile
from appraisal.evidence.service import ALLOWED_MEDIA_TYPES, Purpose
from appraisal.years.models import Subject
from appraisal.years.params import SchemeQuery, SubjectPath, YearPath, year_context
from appraisal.years.service import find_subject
from shared.db import SessionDep
from shared.idempotency import HEADER, Idempotency, owner_of, request_fingerprint
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["evidence"])


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


@router.post(
    "/years/{year}/subjects/{subject}/evidence",
    status_code=201,
    response_model=EvidenceRead,
    summary="Upload an evidence file (佐证材料): PDF, JPEG, PNG, DOCX or XLSX; SHA-256 recorded",
    responses=problem_responses(403, 404, 409, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {"encoding": {"file": {"contentType": ", ".join(ALLOWED_MEDIA_TYPES)}}}
            }
        }
    },
)
async def upload_evidence(
    year: YearPath,
    subject: SubjectPath,
    file: Annotated[UploadFile, File(description="The evidence file.")],
    purpose: Annotated[Purpose, Form(description="What the file backs.")],
    request: Request,
    session: SessionDep,
    principal: Writer,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    settings: Settings = request.app.state.settings
    content = await service.read_limited(file, settings.evidence_max_bytes)
    # the multipart body is parsed already: the key's fingerprint is the file's digest
    idempotency = Idempotency(
        session=session,
        table=request.app.state.idempotency_table,
        owner=owner_of(principal),
        key=request.headers.get(HEADER),
        method=request.method,
        path=request.url.path,
        request_hash=request_fingerprint(
            request.method,
            request.url.path,
            f"{purpose}\n{file.filename}\n{file.content_type}\n".encode() + content,
        ),
    )
    if replay := await idempotency.replay():
        return replay
    evidence = await service.store(
        session,
        context=context,
        subject=found,
        purpose=purpose,
        upload=file,
        content=content,
        principal=principal,
    )
    return await idempotency.respond(201, evidence_read(found, evidence))


@router.get(
    "/years/{year}/subjects/{subject}/evidence",
    response_model=list[EvidenceRead],
    summary="A subject's evidence files (names, types, sizes, SHA-256)",
    responses=problem_responses(404, 409),
)
async def list_evidence(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> list[EvidenceRead]:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    service.require_reader(context, found, principal)
    return [evidence_read(found, item) for item in await service.list_files(session, found)]


@router.get(
    "/years/{year}/subjects/{subject}/evidence/{evidence_id}",
    summary="Download an evidence file",
    response_class=Response,
    responses={
        200: {
            "description": "The file as uploaded",
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in ALLOWED_MEDIA_TYPES
            },
        },
        **problem_responses(404, 409),
    },
)
async def download_evidence(
    year: YearPath,
    subject: SubjectPath,
    evidence_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    service.require_reader(context, found, principal)
    evidence = await service.load_file(session, found, evidence_id)
    digest = base64.b64encode(bytes.fromhex(evidence.sha256)).decode()
    return Response(
        evidence.content,
        media_type=evidence.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(evidence.filename)}",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{evidence.sha256}"',
            "Repr-Digest": f"sha-256=:{digest}:",
        },
    )
