"""What an evidence file really is: its type from its bytes, never from its label.

PDF, JPEG and PNG are recognised by their structure's first bytes (and PNG by its header
chunk's checksum, PDF by its end-of-file marker). DOCX and XLSX are Office Open XML packages:
the zip is opened — its central directory only — and must hold the package's table of
content types naming a main part of the declared kind (a Word document, an Excel workbook;
not a macro-enabled one) that the zip contains. What its members would inflate to is read
from the central directory and refused above a limit before anything is inflated, so a zip
bomb costs nothing; only the small table of content types is read.

A file that is not what it claims is 415; a package of the right kind that is unacceptable
(too large unpacked, too many members, encrypted) is 422 naming ``body.file``.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from shared.errors import InvalidInput, UnsupportedMediaType

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_SIGNATURE = b"PK\x03\x04"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONTENT_TYPES_PART = "[Content_Types].xml"
CONTENT_TYPES_LIMIT = 1024 * 1024
"""The table of content types is read (inflated) only up to this size."""
PDF_TRAILER_WINDOW = 1024
"""A PDF's %%EOF marker lies within its last 1024 bytes (as readers accept it)."""


@dataclass(frozen=True)
class FileType:
    media_type: str
    extensions: tuple[str, ...]
    label: str
    article: str
    main_part_type: str | None = None
    """For an Office package: the content type of its main part."""

    def named(self) -> str:
        return f"{self.article} {self.label} file"


FILE_TYPES = (
    FileType("application/pdf", (".pdf",), "PDF", "a"),
    FileType("image/jpeg", (".jpg", ".jpeg"), "JPEG", "a"),
    FileType("image/png", (".png",), "PNG", "a"),
    FileType(
        DOCX,
        (".docx",),
        "DOCX",
        "a",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    FileType(
        XLSX,
        (".xlsx",),
        "XLSX",
        "an",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
)
ALLOWED_MEDIA_TYPES = tuple(item.media_type for item in FILE_TYPES)

BYTE_ORDER_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF file"),
    (b"\xff\xd8\xff", "a JPEG file"),
    (PNG_SIGNATURE, "a PNG file"),
    (ZIP_SIGNATURE, "a zip package"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"),
    (b"GIF8", "a GIF image"),
)
MARKUP: tuple[tuple[bytes, str], ...] = (
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"<head", "an HTML page"),
    (b"<body", "an HTML page"),
    (b"<script", "a script"),
    (b"<svg", "an SVG image"),
    (b"<?xml", "an XML document"),
    (b"#!", "a script"),
)
_OVERRIDE = re.compile(rb"<Override\b([^>]*)/?>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb'([A-Za-z]+)\s*=\s*"([^"]*)"')


@dataclass(frozen=True)
class PackageLimits:
    """How large an Office package may be once unpacked, and how many members it may have."""

    unpacked_bytes: int
    members: int


def what_it_is(content: bytes) -> str | None:
    """What the first bytes show a file to be, looking past byte-order marks and blanks for
    markup (a page labelled PDF is still a page); None when nothing is recognised."""
    for signature, what in SIGNATURES:
        if content.startswith(signature):
            return what
    text = content[:256]
    for mark in BYTE_ORDER_MARKS:
        text = text.removeprefix(mark)
    text = text.lstrip(b" \t\r\n\x00").lower()
    for signature, what in MARKUP:
        if text.startswith(signature):
            return what
    return None


def check_content(kind: FileType, content: bytes, filename: str, limits: PackageLimits) -> None:
    """Refuse ``content`` unless it is a file of ``kind`` (415), or an acceptable one (422)."""
    if kind.main_part_type is not None:
        reason = _package_problem(kind, content, limits)
    elif kind.label == "PDF":
        reason = _pdf_problem(content)
    elif kind.label == "PNG":
        reason = _png_problem(content)
    else:
        reason = _jpeg_problem(content)
    if reason is None:
        return
    what = what_it_is(content)
    shown = what if what is not None and what != kind.named() and what != "a zip package" else None
    detail = f"its content is {shown}" if shown else f"its content is not {kind.named()}: {reason}"
    raise UnsupportedMediaType(
        f"{filename} is declared {kind.label} but {detail}.", extra={"allowed": list(ALLOWED_MEDIA_TYPES)}
    )


def _pdf_problem(content: bytes) -> str | None:
    if not content.startswith(b"%PDF-"):
        return "it does not start with %PDF-"
    if b"%%EOF" not in content[-PDF_TRAILER_WINDOW:]:
        return "it has no %%EOF marker at its end"
    return None


def _jpeg_problem(content: bytes) -> str | None:
    if not content.startswith(b"\xff\xd8\xff"):
        return "it does not start with a JPEG start-of-image marker"
    return None


def _png_problem(content: bytes) -> str | None:
    if not content.startswith(PNG_SIGNATURE):
        return "it does not start with the PNG signature"
    header = content[8:33]
    if len(header) < 25 or header[:8] != b"\x00\x00\x00\x0dIHDR":
        return "its first chunk is not an image header (IHDR)"
    (checksum,) = struct.unpack(">I", header[21:25])
    if zlib.crc32(header[4:21]) != checksum:
        return "its image header (IHDR) is damaged"
    return None


def _package_problem(kind: FileType, content: bytes, limits: PackageLimits) -> str | None:
    """Why ``content`` is not an Office package of ``kind`` (None when it is); 422 for a package
    that is one but may not be kept. Reads the central directory and, bounded, the table of
    content types; inflates nothing else."""
    if not content.startswith(ZIP_SIGNATURE):
        return "it is not a zip package"
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, EOFError) as exc:
        return f"it is not a readable zip package ({exc})"
    with archive:
        members = archive.infolist()
        _refuse_unacceptable(kind, members, limits)
        names = {member.filename for member in members}
        if CONTENT_TYPES_PART not in names:
            return f"it has no {CONTENT_TYPES_PART}, so it is no Office package"
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            return "it holds macros (vbaProject.bin)"
        types = archive.getinfo(CONTENT_TYPES_PART)
        if types.file_size > CONTENT_TYPES_LIMIT:
            return f"its {CONTENT_TYPES_PART} would unpack to {types.file_size} bytes"
        try:
            with archive.open(types) as stream:
                table = stream.read(CONTENT_TYPES_LIMIT + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError) as exc:
            return f"its {CONTENT_TYPES_PART} cannot be read ({exc})"
    main_parts = []
    for override in _OVERRIDE.finditer(table):
        attributes = {key.lower(): value for key, value in _ATTRIBUTE.findall(override.group(1))}
        if attributes.get(b"contenttype", b"").decode(errors="replace").strip() == kind.main_part_type:
            main_parts.append(attributes.get(b"partname", b"").decode(errors="replace").lstrip("/"))
    if not main_parts:
        return f"its {CONTENT_TYPES_PART} names no main part of type {kind.main_part_type}"
    missing = [part for part in main_parts if part not in names]
    if missing:
        return f"its main part {missing[0]} is not in the package"
    return None


def _refuse_unacceptable(kind: FileType, members: list[zipfile.ZipInfo], limits: PackageLimits) -> None:
    """422 for a package with more members than allowed, an encrypted member, or members that
    would inflate beyond the limit — from the central directory, without inflating them."""
    if len(members) > limits.members:
        _unacceptable(
            f"the {kind.label} package has {len(members)} members, more than the {limits.members} allowed",
            {"limit_members": limits.members},
        )
    if len({member.filename for member in members}) != len(members):
        _unacceptable(f"the {kind.label} package names a member twice", {})
    encrypted = [member.filename for member in members if member.flag_bits & 0x1]
    if encrypted:
        _unacceptable(f"the {kind.label} package has encrypted members ({encrypted[0]})", {})
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.unpacked_bytes:
        _unacceptable(
            f"the {kind.label} package would unpack to {unpacked} bytes, more than the "
            f"{limits.unpacked_bytes} allowed",
            {"limit_bytes": limits.unpacked_bytes, "unpacked_bytes": unpacked},
        )


def _unacceptable(message: str, extra: dict[str, int]) -> None:
    raise InvalidInput(
        f"body.file: {message}", errors=[{"field": "body.file", "message": message}], extra=extra
    )
