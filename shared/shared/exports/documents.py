"""A report as a 通报 document, DOCX (python-docx) or PDF (ReportLab), laid out after GB/T
9704-2012 (党政机关公文格式) on A4 landscape: the issuing office's name in red over a red rule,
the title centred, the body sentences as indented paragraphs, then the tables (header rows
repeated on every page, overdue rows red, lagging rows amber), then the charts, then the
issuing office and the date (成文日期, Arabic numerals) at the right; page numbers "— N —".

Fonts: the PDF uses ReportLab's built-in CID font STSong-Light (no font file; every PDF
reader has it). The DOCX names the fonts the standard asks for (方正小标宋简体 for the title,
仿宋_GB2312 for the body, 黑体 for headings); Word and LibreOffice substitute a Song or
Fangsong face where a machine lacks them.
"""

from __future__ import annotations

import io
import re
from typing import Any

from docx import Document as new_docx  # noqa: N813  (a function, named like a class)
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable
from reportlab.platypus.flowables import HRFlowable

from shared.exports.model import (
    MARK_LABELS,
    Chart,
    Column,
    Report,
    Table,
    as_number,
    chinese_date,
    display_width,
)
from shared.exports.xlsx import FILLS, SERIES_COLOURS

RED = "#C00000"
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TABLE_FONT = "宋体"
PDF_FONT = "STSong-Light"
MARGIN_CM = 2.0
BAR_CELLS = 36


#: characters XML 1.0 cannot carry (DOCX is XML; a PDF font has no glyph for them)
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _UNWRITABLE.sub("\ufffd", text)


def _tables(report: Report) -> list[Table]:
    return [t for s in report.sheets if not s.workbook_only for t in s.tables]


def _charts(report: Report) -> list[Chart]:
    return [c for s in report.sheets for c in s.charts]


def _cell_text(column: Column, value: Any) -> str:
    if value is None or value == "":
        return "—" if column.kind == "rate" else ""
    if column.kind == "rate":
        number = as_number(value)
        return f"{(number or 0) * 100:.1f}%"
    if column.kind == "number":
        return f"{as_number(value) or 0:.2f}".rstrip("0").rstrip(".")
    return value if isinstance(value, str) else str(value)


def _shares(table: Table, total: float) -> list[float]:
    """Column widths in proportion to their content (CJK counts double), within ``total``."""
    wants = []
    for index, column in enumerate(table.columns):
        widest = max(
            [display_width(column.header) / 2 + 2]
            + [display_width(_cell_text(column, row[index])) + 2 for row in table.rows]
        )
        wants.append(min(float(column.max_width), max(widest, 8.0)))
    scale = total / sum(wants)
    return [w * scale for w in wants]


def _series_values(chart: Chart, column: int) -> list[float]:
    return [float(as_number(row[column]) or 0) for row in chart.table.rows]


# DOCX


def _docx_font(
    run: Any, east_asia: str, size: float, *, bold: bool = False, colour: str | None = None
) -> None:
    run.font.name = "Times New Roman"
    run.font.size = Pt(size)
    run.bold = bold
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour.lstrip("#"))
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)


def _docx_paragraph(
    document: Any,
    text: str,
    *,
    font: str = BODY_FONT,
    size: float = 16,
    bold: bool = False,
    colour: str | None = None,
    align: Any = None,
    indent: bool = False,
    after: float = 0,
) -> Any:
    paragraph = document.add_paragraph()
    run = paragraph.add_run(_clean(text))
    _docx_font(run, font, size, bold=bold, colour=colour)
    fmt = paragraph.paragraph_format
    if align is not None:
        paragraph.alignment = align
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(after)
    fmt.line_spacing = Pt(size * 1.6)
    return paragraph


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill.lstrip("#"))
    cell._element.get_or_add_tcPr().append(shading)


def _cell(cell: Any, text: str, *, bold: bool = False, colour: str | None = None, size: float = 9) -> None:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(_clean(text))
    _docx_font(run, TABLE_FONT, size, bold=bold, colour=colour)
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0


def _set_widths(grid: Any, widths_cm: list[float]) -> None:
    """Column widths in the table grid (what Word and LibreOffice lay out by) and in each cell."""
    for column, width in zip(grid._tbl.tblGrid.gridCol_lst, widths_cm, strict=True):
        column.w = Cm(width)
    for row in grid.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _docx_table(document: Any, table: Table, width_cm: float) -> None:
    _docx_paragraph(document, table.heading, font=HEADING_FONT, size=14, after=4)
    shares = _shares(table, width_cm)
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    header = grid.rows[0]
    header_props = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_props.append(repeat)
    for index, column in enumerate(table.columns):
        _cell(header.cells[index], column.header, bold=True)
        _shade(header.cells[index], "#D9E1F2")
    for number, values in enumerate(table.rows):
        cells = grid.add_row().cells
        mark = table.mark(number)
        for index, column in enumerate(table.columns):
            _cell(cells[index], _cell_text(column, values[index]))
            if mark:
                _shade(cells[index], FILLS[mark])
    _set_widths(grid, shares)
    legend = [f"{MARK_LABELS[m]}（底色）" for m in MARK_LABELS if m in table.marks]
    if legend or table.note:
        _docx_paragraph(document, "　".join([*legend, table.note or ""]).strip(), font=TABLE_FONT, size=10.5)
    _docx_paragraph(document, "", size=8)


def _docx_chart(document: Any, chart: Chart, width_cm: float) -> None:
    """A bar chart drawn with block characters in a table: one row per category, a bar whose
    segments are coloured per series, the values written after it."""
    _docx_paragraph(document, chart.title, font=HEADING_FONT, size=14, after=4)
    values = [_series_values(chart, column) for column in chart.series]
    totals = [sum(v[i] for v in values) for i in range(len(chart.table.rows))]
    largest = 1.0 if chart.percent else max([*totals, 1.0])
    grid = document.add_table(rows=0, cols=3)
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for index, row in enumerate(chart.table.rows):
        cells = grid.add_row().cells
        _cell(cells[0], str(row[chart.category]))
        paragraph = cells[1].paragraphs[0]
        for number, series in enumerate(values):
            blocks = round(series[index] / largest * BAR_CELLS)
            if blocks:
                run = paragraph.add_run("█" * blocks)
                _docx_font(run, TABLE_FONT, 7, colour=SERIES_COLOURS[number % len(SERIES_COLOURS)])
        shown = (
            f"{totals[index] * 100:.1f}%"
            if chart.percent
            else "，".join(
                f"{chart.table.columns[c].header}{int(values[n][index])}"
                for n, c in enumerate(chart.series)
                if values[n][index]
            )
        )
        _cell(cells[2], shown, size=9)
    _set_widths(grid, [width_cm * share for share in (0.2, 0.45, 0.35)])
    if len(chart.series) > 1:
        paragraph = document.add_paragraph()
        for number, column in enumerate(chart.series):
            run = paragraph.add_run("█ ")
            _docx_font(run, TABLE_FONT, 9, colour=SERIES_COLOURS[number % len(SERIES_COLOURS)])
            _docx_font(paragraph.add_run(_clean(chart.table.columns[column].header) + "　"), TABLE_FONT, 9)
    _docx_paragraph(document, "", size=8)


def _page_number_footer(section: Any) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _docx_font(paragraph.add_run("— "), TABLE_FONT, 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    _docx_font(paragraph.add_run(" —"), TABLE_FONT, 14)


def to_docx(report: Report) -> bytes:
    document = new_docx()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    _page_number_footer(section)
    width_cm = 29.7 - 2 * MARGIN_CM
    document.core_properties.title = _clean(report.title)
    document.core_properties.author = _clean(report.issuer)
    _docx_paragraph(
        document, report.issuer, font=TITLE_FONT, size=26, colour=RED, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    rule = _docx_paragraph(document, "", size=6, after=6)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "18"), ("space", "1"), ("color", RED.lstrip("#"))):
        bottom.set(qn(f"w:{name}"), value)
    borders.append(bottom)
    rule._p.get_or_add_pPr().append(borders)
    _docx_paragraph(
        document, report.title, font=TITLE_FONT, size=20, align=WD_ALIGN_PARAGRAPH.CENTER, after=6
    )
    _docx_paragraph(
        document, report.byline, font=BODY_FONT, size=12, align=WD_ALIGN_PARAGRAPH.CENTER, after=8
    )
    for sentence in report.paragraphs:
        _docx_paragraph(document, sentence, indent=True)
    _docx_paragraph(document, "", size=8)
    for table in _tables(report):
        _docx_table(document, table, width_cm)
    for chart in _charts(report):
        _docx_chart(document, chart, width_cm)
    _docx_paragraph(document, report.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _docx_paragraph(document, chinese_date(report.made_on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# PDF


def _pdf_styles() -> dict[str, ParagraphStyle]:
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    base = {"fontName": PDF_FONT, "wordWrap": "CJK"}
    return {
        "issuer": ParagraphStyle(
            "issuer", **base, fontSize=26, leading=34, alignment=TA_CENTER, textColor=RED
        ),
        "title": ParagraphStyle("title", **base, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=6),
        "byline": ParagraphStyle(
            "byline", **base, fontSize=11, leading=16, alignment=TA_CENTER, spaceAfter=10
        ),
        "body": ParagraphStyle("body", **base, fontSize=14, leading=22, firstLineIndent=28),
        "heading": ParagraphStyle("heading", **base, fontSize=13, leading=20, spaceBefore=8, spaceAfter=4),
        "cell": ParagraphStyle("cell", **base, fontSize=9, leading=11.5),
        "note": ParagraphStyle("note", **base, fontSize=9, leading=12, spaceBefore=2),
        "sign": ParagraphStyle("sign", **base, fontSize=14, leading=22, alignment=TA_RIGHT),
    }


def _escape(text: str) -> str:
    return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pdf_table(table: Table, width: float, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    shares = _shares(table, width)
    data: list[list[Any]] = [[Paragraph(_escape(c.header), styles["cell"]) for c in table.columns]]
    for values in table.rows:
        data.append(
            [
                Paragraph(_escape(_cell_text(c, values[i])), styles["cell"])
                for i, c in enumerate(table.columns)
            ]
        )
    commands: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#D9E1F2")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for number in range(len(table.rows)):
        mark = table.mark(number)
        if mark:
            commands.append(("BACKGROUND", (0, number + 1), (-1, number + 1), colors.HexColor(FILLS[mark])))
    grid = PdfTable(data, colWidths=shares, repeatRows=1, hAlign="CENTER")
    grid.setStyle(TableStyle(commands))
    parts: list[Flowable] = [
        CondPageBreak(3 * cm),
        Paragraph(_escape(table.heading), styles["heading"]),
        grid,
    ]
    legend = [f"{MARK_LABELS[m]}（底色）" for m in MARK_LABELS if m in table.marks]
    if legend or table.note:
        parts.append(Paragraph(_escape("　".join([*legend, table.note or ""]).strip()), styles["note"]))
    return parts


def _pdf_chart(chart: Chart, width: float, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    categories = [_clean(str(row[chart.category])) for row in chart.table.rows]
    rows = len(categories)
    data = [_series_values(chart, column) for column in chart.series]
    if chart.kind == "stacked_bar":
        height = max(120.0, 14.0 * rows + 60)
        drawing = Drawing(width, height)
        bars: Any = HorizontalBarChart()
        bars.x, bars.y = 90, 40
        bars.width, bars.height = width - 110, height - 60
        bars.categoryAxis.style = "stacked"
        bars.categoryAxis.reverseDirection = True
        bars.valueAxis.valueMin = 0
        bars.valueAxis.valueMax = max([sum(col[i] for col in data) for i in range(rows)] + [1])
    else:
        height = 200.0
        drawing = Drawing(width, height)
        bars = VerticalBarChart()
        bars.x, bars.y = 40, 70
        bars.width, bars.height = width - 60, height - 90
        bars.valueAxis.valueMin = 0
        bars.valueAxis.valueMax = 1 if chart.percent else max([v for col in data for v in col] + [1])
        bars.valueAxis.labelTextFormat = (lambda v: f"{v * 100:.0f}%") if chart.percent else None
        bars.categoryAxis.labels.angle = 30
        bars.categoryAxis.labels.boxAnchor = "ne"
    bars.data = data
    bars.categoryAxis.categoryNames = categories
    bars.categoryAxis.labels.fontName = PDF_FONT
    bars.categoryAxis.labels.fontSize = 8
    bars.valueAxis.labels.fontSize = 8
    for number in range(len(data)):
        bars.bars[number].fillColor = colors.HexColor(SERIES_COLOURS[number % len(SERIES_COLOURS)])
        bars.bars[number].strokeColor = None
    drawing.add(bars)
    if len(chart.series) > 1:
        legend = Legend()
        legend.fontName = PDF_FONT
        legend.fontSize = 8
        legend.x, legend.y = 90, 14
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.deltax = 70
        legend.colorNamePairs = [
            (colors.HexColor(SERIES_COLOURS[n % len(SERIES_COLOURS)]), _clean(chart.table.columns[c].header))
            for n, c in enumerate(chart.series)
        ]
        drawing.add(legend)
    return [Paragraph(_escape(chart.title), styles["heading"]), drawing]


def _page_number(canvas: Any, document: Any) -> None:
    canvas.saveState()
    canvas.setFont(PDF_FONT, 11)
    canvas.drawCentredString(document.pagesize[0] / 2, 0.9 * cm, f"— {canvas.getPageNumber()} —")
    canvas.restoreState()


def to_pdf(report: Report) -> bytes:
    styles = _pdf_styles()
    out = io.BytesIO()
    page = landscape(A4)
    margin = MARGIN_CM * cm
    document = SimpleDocTemplate(
        out,
        pagesize=page,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin * 0.8,
        bottomMargin=margin,
        title=report.title,
        author=report.issuer,
        subject=report.period,
    )
    width = page[0] - 2 * margin
    story: list[Flowable] = [
        Paragraph(_escape(report.issuer), styles["issuer"]),
        HRFlowable(width="100%", thickness=2, color=colors.HexColor(RED), spaceBefore=4, spaceAfter=10),
        Paragraph(_escape(report.title), styles["title"]),
        Paragraph(_escape(report.byline), styles["byline"]),
    ]
    story += [Paragraph(_escape(sentence), styles["body"]) for sentence in report.paragraphs]
    story.append(Spacer(1, 6))
    for table in _tables(report):
        story += _pdf_table(table, width, styles)
    charts = _charts(report)
    for first in range(0, len(charts), 2):
        pair = charts[first : first + 2]
        each = width / len(pair)
        cells = [_pdf_chart(chart, each - 6, styles) for chart in pair]
        row = PdfTable([cells], colWidths=[each] * len(pair))
        row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(row)
    story += [
        Spacer(1, 12),
        Paragraph(_escape(report.issuer), styles["sign"]),
        Paragraph(chinese_date(report.made_on), styles["sign"]),
    ]
    document.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return out.getvalue()
