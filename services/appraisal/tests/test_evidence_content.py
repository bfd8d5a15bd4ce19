"""Evidence files are what they say they are (佐证材料, Panjin art. 7(四), Zhumadian art. 7(四)):
the real type comes from the bytes, not from the label, and an Office package is opened as a
zip and checked for its structure and for what its members would inflate to — without
inflating them. Each attack is refused with a problem+json (415: not the type it claims;
422: the type, but unacceptable) and writes nothing."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from appraisal.config import Settings
from appraisal.evidence.content import FILE_TYPES, FileType, PackageLimits, check_content
from appraisal.main import create_app
from platformctl.testing import assert_problem
from shared.errors import InvalidInput, UnsupportedMediaType
from shared.testing import TokenMint, app_client

BASE = "/api/appraisal/v1"
YEAR = 2133
URL = f"{BASE}/years/{YEAR}/subjects/411724/evidence"
MEBIBYTE = 1024 * 1024
UNPACKED_LIMIT = MEBIBYTE
MEMBER_LIMIT = 50
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
BOM = b"\xef\xbb\xbf"


def png() -> bytes:
    """A real 1×1 PNG: signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["自评", 95])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "docm": "application/vnd.ms-word.document.macroEnabled.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}


def package(main: str, main_type: str, members: dict[str, bytes] | None = None, **options: Any) -> bytes:
    """A zip package with [Content_Types].xml naming ``main`` as ``main_type``."""
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/{main}" ContentType="{main_type}"/></Types>'
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, **options) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr(main, b"<document/>")
        for name, data in (members or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx() -> bytes:
    return package("word/document.xml", CONTENT_TYPES["docx"])


def encrypted(data: bytes, name: str) -> bytes:
    """``data`` with the member ``name`` marked encrypted (general purpose flag bit 0), in its
    local header and in the central directory."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        offset = archive.getinfo(name).header_offset
    raw[offset + 6] |= 0x01
    entry = raw.find(b"PK\x01\x02")
    while entry != -1:
        length = struct.unpack("<H", raw[entry + 28 : entry + 30])[0]
        if raw[entry + 46 : entry + 46 + length] == name.encode():
            raw[entry + 8] |= 0x01
        entry = raw.find(b"PK\x01\x02", entry + 4)
    return bytes(raw)


def zip_bomb() -> bytes:
    """An XLSX-shaped package one of whose members inflates to 64 × the unpacked limit from a
    few kilobytes (zeros deflate about 1000 : 1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        types = (
            '<Types><Override PartName="/xl/workbook.xml" ContentType="'
            + CONTENT_TYPES["xlsx"]
            + '"/></Types>'
        ).encode()
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            zeros = b"\x00" * MEBIBYTE
            for _ in range(64):
                member.write(zeros)
    return buffer.getvalue()


@pytest.fixture
async def client(migrated_database: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=migrated_database,
        evidence_max_unpacked_bytes=UNPACKED_LIMIT,
        evidence_max_package_members=MEMBER_LIMIT,
    )
    async with app_client(create_app(settings), mint) as client:
        yield client


def staff(mint: TokenMint) -> dict[str, str]:
    return mint.headers(scopes=["appraisal:read", "appraisal:write"], jurisdictions=["411700"], subject="zmd")


def own(mint: TokenMint) -> dict[str, str]:
    return mint.headers(
        scopes=["appraisal:read", "appraisal:write"], jurisdictions=["411724"], subject="411724"
    )


@pytest.fixture
async def year(client: httpx.AsyncClient, mint: TokenMint) -> None:
    """Zhumadian's year at the self-evaluation stage (created once per test database)."""
    headers = staff(mint)
    opened = await client.post(f"{BASE}/years", json={"scheme": "zhumadian", "year": YEAR}, headers=headers)
    if opened.status_code == 409:
        return
    assert opened.status_code == 201, opened.text
    for stage in ("mid_year_review", "status_evaluation", "self_evaluation"):
        moved = await client.post(f"{BASE}/years/{YEAR}/transitions", json={"to": stage}, headers=headers)
        assert moved.status_code == 201, moved.text


async def upload(
    client: httpx.AsyncClient, mint: TokenMint, name: str, content: bytes, media_type: str
) -> httpx.Response:
    return await client.post(
        URL,
        files={"file": (name, content, media_type)},
        data={"purpose": "self_evaluation"},
        headers=own(mint),
    )


ATTACKS = [
    # (name, file name, bytes, declared type, status, words in the detail)
    ("BOM-prefixed HTML labelled PDF", "scan.pdf", BOM + HTML, "application/pdf", 415, "an HTML page"),
    (
        "BOM-prefixed HTML by extension",
        "scan.pdf",
        BOM + HTML,
        "application/octet-stream",
        415,
        "an HTML page",
    ),
    ("blanks then HTML labelled PNG", "a.png", b"\r\n \t" + HTML, "image/png", 415, "an HTML page"),
    ("random bytes labelled PDF", "report.pdf", os.urandom(2048), "application/pdf", 415, "not a PDF file"),
    ("random bytes labelled JPEG", "photo.jpg", os.urandom(2048), "image/jpeg", 415, "not a JPEG file"),
    (
        "a PNG signature and junk",
        "photo.png",
        b"\x89PNG\r\n\x1a\n" + os.urandom(64),
        "image/png",
        415,
        "not a PNG file",
    ),
    (
        "a PDF header only",
        "scan.pdf",
        b"%PDF-1.7\n" + os.urandom(256),
        "application/pdf",
        415,
        "not a PDF file",
    ),
    (
        "random bytes labelled XLSX",
        "table.xlsx",
        b"PK\x03\x04" + os.urandom(512),
        XLSX,
        415,
        "not an XLSX file",
    ),
    (
        "a zip that is no Office package",
        "table.xlsx",
        package("data.csv", "text/csv"),
        XLSX,
        415,
        "not an XLSX file",
    ),
    ("a DOCX labelled XLSX", "table.xlsx", docx(), XLSX, 415, "not an XLSX file"),
    ("an XLSX labelled DOCX", "letter.docx", xlsx(), DOCX, 415, "not a DOCX file"),
    (
        "a macro-enabled document labelled DOCX",
        "letter.docx",
        package("word/document.xml", CONTENT_TYPES["docm"], {"word/vbaProject.bin": b"\x00" * 64}),
        DOCX,
        415,
        "not a DOCX file",
    ),
    ("a zip bomb labelled XLSX", "table.xlsx", zip_bomb(), XLSX, 422, "would unpack to"),
    (
        "a package of too many members",
        "letter.docx",
        package(
            "word/document.xml", CONTENT_TYPES["docx"], {f"word/media/{n}.xml": b"<a/>" for n in range(60)}
        ),
        DOCX,
        422,
        "members",
    ),
    (
        "an encrypted member",
        "letter.docx",
        encrypted(package("word/document.xml", CONTENT_TYPES["docx"]), "word/document.xml"),
        DOCX,
        422,
        "encrypted",
    ),
]


@pytest.mark.parametrize(
    ("name", "filename", "content", "media_type", "status", "words"), ATTACKS, ids=[a[0] for a in ATTACKS]
)
async def test_an_evidence_file_that_is_not_what_it_claims_is_refused(
    client: httpx.AsyncClient,
    mint: TokenMint,
    year: None,
    name: str,
    filename: str,
    content: bytes,
    media_type: str,
    status: int,
    words: str,
) -> None:
    before = (await client.get(URL, headers=own(mint))).json()
    answer = await upload(client, mint, filename, content, media_type)
    problem = assert_problem(answer, status)
    assert words in problem["detail"], problem["detail"]
    assert (await client.get(URL, headers=own(mint))).json() == before


async def test_a_zip_bomb_is_refused_without_inflating_it(
    client: httpx.AsyncClient, mint: TokenMint, year: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    inflated = 0
    read = zipfile.ZipExtFile.read

    def counting(self: zipfile.ZipExtFile, n: int | None = -1) -> bytes:
        nonlocal inflated
        data = read(self, n)
        inflated += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)
    bomb = zip_bomb()
    assert len(bomb) < 200 * 1024
    problem = assert_problem(await upload(client, mint, "table.xlsx", bomb, XLSX), 422)
    assert problem["limit_bytes"] == UNPACKED_LIMIT
    assert problem["errors"] == [{"field": "body.file", "message": problem["errors"][0]["message"]}]
    assert inflated < 64 * 1024  # the package's table of types at most, never the member


@pytest.mark.parametrize(
    ("filename", "content", "media_type"),
    [
        ("自评.pdf", PDF, "application/pdf"),
        ("照片.png", png(), "image/png"),
        ("照片.jpg", JPEG, "image/jpeg"),
        ("台账.xlsx", xlsx(), XLSX),
        ("报告.docx", docx(), DOCX),
        ("by-extension.xlsx", xlsx(), "application/octet-stream"),
    ],
)
async def test_real_evidence_files_are_kept(
    client: httpx.AsyncClient, mint: TokenMint, year: None, filename: str, content: bytes, media_type: str
) -> None:
    answer = await upload(client, mint, filename, content, media_type)
    assert answer.status_code == 201, answer.text
    download = await client.get(f"{URL}/{answer.json()['id']}", headers=own(mint))
    assert download.content == content


LIMITS = PackageLimits(unpacked_bytes=UNPACKED_LIMIT, members=MEMBER_LIMIT)
VALID_XLSX = xlsx()


def refused_cleanly(kind: FileType, content: bytes) -> None:
    """Any bytes are either accepted or refused with a problem (415/422) — never an error."""
    with contextlib.suppress(UnsupportedMediaType, InvalidInput):
        check_content(kind, content, "upload", LIMITS)


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=4096), index=st.integers(min_value=0, max_value=len(FILE_TYPES) - 1))
def test_any_bytes_are_accepted_or_refused_cleanly(content: bytes, index: int) -> None:
    refused_cleanly(FILE_TYPES[index], content)
    refused_cleanly(FILE_TYPES[index], b"PK\x03\x04" + content)


@settings(max_examples=200, deadline=None)
@given(
    damage=st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(VALID_XLSX) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    )
)
def test_a_damaged_package_is_refused_cleanly(damage: list[tuple[int, int]]) -> None:
    content = bytearray(VALID_XLSX)
    for position, value in damage:
        content[position] = value
    for kind in FILE_TYPES:
        refused_cleanly(kind, bytes(content))
