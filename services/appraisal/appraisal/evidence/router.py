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
from appraisal.evidence.content import ALLOWED_MEDIA_TYPES, PackageLimits
from appraisal.evidence.service import Purpose
from appraisal.years.dependencies import SubjectDep, YearDep
from shared.db import SessionDep, get_database
from shared.errors import InvalidInput, PayloadTooLarge
from shared.pagination import Items
from shared.problems import problem_responses
from shared.writes import IdempotencyKey, WriteContext, request_fingerprint

router = APIRouter(prefix="/api/appraisal/v1", tags=["evidence"])
CHUNK = 1024 * 1024


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes; more than ``limit`` is 413 (read in chunks, never all at once)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"Evidence files are limited to {limit} bytes.", extra={"limit_bytes": limit}
            )
        chunks.append(chunk)
    return b"".join(chunks)


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
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    file: Annotated[UploadFile, File(description="The evidence file.")],
    purpose: Annotated[Purpose, Form(description="What the file backs.")],
    request: Request,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    settings: Settings = request.app.state.settings
    content = await read_limited(file, settings.evidence_max_bytes)
    if idempotency_key is not None and not idempotency_key.isprintable():
        raise InvalidInput.field("header.idempotency-key", "must be printable characters")
    # the write path, with the file's digest as the key's fingerprint: the multipart body is
    # parsed already (and its boundary differs each time a client sends the same file)
    write = WriteContext(
        session=session,
        principal=principal,
        tables=request.app.state.platform_tables,
        service=settings.service_name,
        sessions=get_database(request).sessions,
        idempotency_key=idempotency_key,
        method=request.method,
        path=request.url.path,
        request_hash=request_fingerprint(
            request.method,
            request.url.path,
            f"{purpose}\n{file.filename}\n{file.content_type}\n".encode() + content,
            request.url.query,
        ),
    )
    if replay := await write.replay():
        return replay
    evidence = await service.store(
        write=write,
        context=context,
        subject=subject,
        purpose=purpose,
        filename=file.filename,
        declared_type=file.content_type,
        content=content,
        limits=PackageLimits(
            unpacked_bytes=settings.evidence_max_unpacked_bytes, members=settings.evidence_max_package_members
        ),
    )
    return await write.respond(201, service.evidence_read(subject, evidence))


@router.get(
    "/years/{year}/subjects/{subject}/evidence",
    response_model=Items[EvidenceRead],
    summary="A subject's evidence files (names, types, sizes, SHA-256)",
    responses=problem_responses(404, 409),
)
async def list_evidence(
    principal: Reader, context: YearDep, subject: SubjectDep, session: SessionDep
) -> Items[EvidenceRead]:
    files = await service.files(session=session, context=context, subject=subject, principal=principal)
    return Items.of([service.evidence_read(subject, item) for item in files])


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
    principal: Reader,
    context: YearDep,
    subject: SubjectDep,
    evidence_id: uuid.UUID,
    session: SessionDep,
) -> Response:
    evidence = await service.file_to_download(
        session=session, context=context, subject=subject, evidence_id=evidence_id, principal=principal
    )
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
