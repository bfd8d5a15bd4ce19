"""Test helpers for exported documents: read a PDF's pages and text (pypdf), and print XLSX and
DOCX files to PDF with LibreOffice the way staff would (the test is skipped, saying why, where
LibreOffice is not installed: Debian's libreoffice-calc-nogui and libreoffice-writer-nogui)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader


def pdf_pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def assert_a4_landscape(content: bytes) -> None:
    for number, page in enumerate(PdfReader(io.BytesIO(content)).pages, 1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        if page.rotation in (90, 270):
            width, height = height, width
        assert (round(width), round(height)) == (842, 595), f"page {number} is {width:.0f} x {height:.0f} pt"


def pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    texts = [page.extract_text() for page in pages]
    blank = [number for number, text in enumerate(texts, 1) if not text.strip()]
    assert not blank, f"blank pages: {blank}"
    return "\n".join(texts)


def render_with_libreoffice(files: dict[str, bytes]) -> dict[str, bytes]:
    """Each file printed to PDF by LibreOffice, by its name."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip(
            "LibreOffice is not installed (apt-get install libreoffice-calc-nogui libreoffice-writer-nogui): "
            "the XLSX and DOCX are not rendered"
        )
    rendered: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name, content in files.items():
            (work / name).write_bytes(content)
        subprocess.run(  # noqa: S603  (a fixed program on files the test wrote)
            [
                office,
                f"-env:UserInstallation=file://{work}/profile",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work / "out"),
                *(str(work / name) for name in files),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        for name in files:
            rendered[name] = (work / "out" / (Path(name).stem + ".pdf")).read_bytes()
    return rendered
