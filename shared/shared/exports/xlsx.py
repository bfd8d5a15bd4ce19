"""A report as a finished XLSX workbook (XlsxWriter).

Each sheet: a title row (the report's title) and a byline (period, issuing office, date
made) repeated on every printed page and frozen on screen, then its tables (a heading, a
header row, the rows; numbers as numbers, rates as percentages, long text wrapped, overdue rows
red and lagging rows amber, a legend under a marked table), then its native charts. Columns
are fitted to their content (CJK counts double). Print setup: A4 landscape, fitted to the page
width, page numbers "第 N 页 共 M 页" in the footer.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.format import Format  # type: ignore[import-untyped]
from xlsxwriter.workbook import Workbook  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from shared.exports.model import (
    MARK_LABELS,
    Chart,
    Column,
    Mark,
    Report,
    Sheet,
    Table,
    as_number,
    display_width,
    is_formula_like,
)

_SURROGATES = re.compile("[\ud800-\udfff]")
FONT = "宋体"
FONT_SIZE = 10
LINE_POINTS = 14.0
FILLS = {"overdue": "#F8CBAD", "lagging": "#FFE699"}
NUMBER_FORMATS = {"integer": "0", "number": "0.0#", "rate": "0.0%", "date": "yyyy-mm-dd", "text": "@"}
SERIES_COLOURS = ["#70AD47", "#4472C4", "#FFC000", "#ED7D31", "#C00000", "#7F7F7F", "#5B9BD5"]
CHART_ROWS = 18  # rows of the default height a chart takes
PIXELS_PER_CHAR = 7
CHART_WIDTH = 520  # pixels


class _Formats:
    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.cache: dict[tuple[str, Mark, bool], Format] = {}
        base = {"font_name": FONT, "font_size": FONT_SIZE}
        self.title = workbook.add_format(
            {**base, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter", "text_wrap": True}
        )
        self.byline = workbook.add_format(
            {**base, "align": "center", "valign": "vcenter", "font_color": "#404040"}
        )
        self.heading = workbook.add_format({**base, "bold": True, "font_size": 12, "valign": "vcenter"})
        self.header = workbook.add_format(
            {
                **base,
                "bold": True,
                "bg_color": "#D9E1F2",
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.note = workbook.add_format({**base, "italic": True, "font_color": "#404040"})
        self.legend = {
            mark: workbook.add_format({**base, "bg_color": fill, "border": 1}) for mark, fill in FILLS.items()
        }

    def cell(self, kind: str, mark: Mark, quoted: bool = False) -> Format:
        key = (kind, mark, quoted)
        if key not in self.cache:
            spec: dict[str, Any] = {
                "font_name": FONT,
                "font_size": FONT_SIZE,
                "border": 1,
                "valign": "top",
                "num_format": NUMBER_FORMATS[kind],
            }
            if kind == "text":
                spec["text_wrap"] = True
            if mark:
                spec["bg_color"] = FILLS[mark]
            if quoted:
                spec["quote_prefix"] = True
            self.cache[key] = self.workbook.add_format(spec)
        return self.cache[key]


def _text(value: Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return _SURROGATES.sub("\ufffd", text)  # a lone surrogate cannot be written as UTF-8


def _shown(column: Column, value: Any) -> str:
    """The text a cell shows, for fitting widths."""
    if column.kind == "rate":
        return "100.0%"
    if column.kind == "date":
        return "2000-01-01"
    return _text(value)


def _widths(sheet: Sheet) -> list[float]:
    """Per column index: the widest content of any table on the sheet, capped at the column's
    ``max_width`` (longer text wraps)."""
    widths: list[float] = []
    for table in sheet.tables:
        for index, column in enumerate(table.columns):
            if table.span_last and index == len(table.columns) - 1:
                continue
            fitted = max(
                [display_width(column.header) / 2 + 2]  # headers wrap onto two lines if need be
                + [display_width(_shown(column, row[index])) + 2 for row in table.rows]
            )
            width = min(float(column.max_width), max(fitted, 6.0))
            if index < len(widths):
                widths[index] = max(widths[index], width)
            else:
                widths.append(width)
    return widths


def _lines(text: str, width: float) -> int:
    return max(1, *(math.ceil(display_width(part) / max(width - 1, 1)) for part in text.split("\n")))


def _write(
    sheet: Worksheet, row: int, col: int, column: Column, value: Any, fmt: _Formats, mark: Mark
) -> Format:
    """Writes one cell; answers its format (for merging a spanning cell)."""
    if value is None or value == "":
        cell = fmt.cell(column.kind, mark)
        sheet.write_blank(row, col, None, cell)
    elif column.kind in ("integer", "number", "rate"):
        number = as_number(value)
        cell = fmt.cell(column.kind, mark)
        sheet.write_number(row, col, number if number is not None else 0, cell)
    elif column.kind == "date" and isinstance(value, dt.date):
        cell = fmt.cell("date", mark)
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), cell)
    else:
        text = _text(value)
        cell = fmt.cell("text", mark, quoted=is_formula_like(text))
        sheet.write_string(row, col, text, cell)
    return cell


def _write_table(
    sheet: Worksheet, row: int, table: Table, widths: list[float], formats: _Formats
) -> tuple[int, int]:
    """Writes the table from ``row``; answers the row of its header and the next free row."""
    last = len(table.columns) - 1
    span_to = len(widths) - 1 if table.span_last and len(widths) - 1 > last else last
    own = [*widths[:last], sum(widths[last : span_to + 1])]

    sheet.set_row(row, LINE_POINTS * 1.4)
    sheet.write_string(row, 0, table.heading, formats.heading)
    row += 1
    header_row = row
    header_lines = max(_lines(c.header, own[i]) for i, c in enumerate(table.columns))
    sheet.set_row(row, LINE_POINTS * header_lines + 4)
    for index, column in enumerate(table.columns):
        if index == last and span_to > last:
            sheet.merge_range(row, last, row, span_to, column.header, formats.header)
        else:
            sheet.write_string(row, index, column.header, formats.header)
    shown = None if table.filter is None else set(table.filter[1])
    for number, values in enumerate(table.rows):
        row += 1
        mark = table.mark(number)
        lines = 1
        for index, column in enumerate(table.columns):
            value = values[index]
            if index == last and span_to > last:
                text = _text(value)
                sheet.merge_range(
                    row, last, row, span_to, text, formats.cell("text", mark, is_formula_like(text))
                )
            else:
                _write(sheet, row, index, column, value, formats, mark)
            if column.kind == "text":
                lines = max(lines, _lines(_text(value), own[index]))
        hidden = shown is not None and table.filter is not None and values[table.filter[0]] not in shown
        sheet.set_row(row, LINE_POINTS * lines + 2, None, {"hidden": hidden})
    if table.filter is not None:
        filtered, kept = table.filter
        sheet.autofilter(header_row, 0, row, span_to)
        sheet.filter_column_list(filtered, list(kept))
    row += 1
    legend = [m for m in MARK_LABELS if m in table.marks]
    if legend:
        for offset, mark in enumerate(legend):
            sheet.write_string(row, offset, MARK_LABELS[mark], formats.legend[mark])
        row += 1
    if table.note:
        sheet.write_string(row, 0, table.note, formats.note)
        row += 1
    return header_row, row + 1


def _chart(workbook: Workbook, sheet_name: str, chart: Chart, first_row: int, width_px: int) -> Any:
    kind = {"type": "bar", "subtype": "stacked"} if chart.kind == "stacked_bar" else {"type": "column"}
    native = workbook.add_chart(kind)
    assert native is not None
    last_row = first_row + len(chart.table.rows) - 1
    for number, column in enumerate(chart.series):
        native.add_series(
            {
                "name": [sheet_name, first_row - 1, column],
                "categories": [sheet_name, first_row, chart.category, last_row, chart.category],
                "values": [sheet_name, first_row, column, last_row, column],
                "fill": {"color": SERIES_COLOURS[number % len(SERIES_COLOURS)]},
                "gap": 60,
                "data_labels": {"value": True, "num_format": "0%" if chart.percent else "0"}
                if chart.kind == "column"
                else {},
            }
        )
    native.set_title({"name": chart.title, "name_font": {"name": FONT, "size": 12, "bold": True}})
    value_axis: dict[str, Any] = {"num_font": {"name": FONT, "size": 9}, "major_gridlines": {"visible": True}}
    if chart.percent:
        value_axis.update({"num_format": "0%", "min": 0, "max": 1})
    category_axis = {"num_font": {"name": FONT, "size": 9}}
    if chart.kind == "stacked_bar":
        native.set_x_axis(value_axis)
        native.set_y_axis({**category_axis, "reverse": True})
    else:
        native.set_y_axis(value_axis)
        native.set_x_axis(category_axis)
    native.set_legend(
        {"position": "bottom" if len(chart.series) > 1 else "none", "font": {"name": FONT, "size": 9}}
    )
    native.set_size({"width": width_px, "height": CHART_ROWS * 20})
    return native


def _row_reached(sheet: Worksheet, start: int, pixels: int) -> int:
    """The first row below ``start`` where ``pixels`` of rows (as set, else the default) end."""
    row = start
    while pixels > 0:
        height, hidden = (sheet.row_sizes.get(row) or [20, False])[:2]  # pixels
        pixels -= 0 if hidden else int(height)
        row += 1
    return row


def _write_sheet(workbook: Workbook, report: Report, sheet_spec: Sheet, formats: _Formats) -> None:
    sheet = workbook.add_worksheet(sheet_spec.name)
    widths = _widths(sheet_spec)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    # the charts stand to the right of the tables, one under the other (landscape pages are wide)
    chart_column = len(widths) + 1
    if sheet_spec.charts:
        sheet.set_column(len(widths), len(widths), 2)
        sheet.set_column(chart_column, chart_column, CHART_WIDTH / PIXELS_PER_CHAR)
    last_column = chart_column if sheet_spec.charts else max(0, len(widths) - 1)
    total_chars = sum(widths) + (2 + CHART_WIDTH / PIXELS_PER_CHAR if sheet_spec.charts else 0)
    # the title wraps within the sheet's width (16 pt against the 10 pt the widths count in)
    sheet.set_row(0, 26 * _lines(report.title, total_chars / 1.7) + 4)
    sheet.set_row(1, 20)
    if last_column > 0:
        sheet.merge_range(0, 0, 0, last_column, report.title, formats.title)
        sheet.merge_range(1, 0, 1, last_column, report.byline, formats.byline)
    else:
        sheet.write_string(0, 0, report.title, formats.title)
        sheet.write_string(1, 0, report.byline, formats.byline)
    row = 3
    table_rows: dict[int, int] = {}
    header_rows: list[int] = []
    for table in sheet_spec.tables:
        header_row, row = _write_table(sheet, row, table, widths, formats)
        table_rows[id(table)] = header_row + 1
        header_rows.append(header_row)
    chart_row = 3
    for chart in sheet_spec.charts:
        native = _chart(workbook, sheet_spec.name, chart, table_rows[id(chart.table)], CHART_WIDTH)
        sheet.insert_chart(chart_row, chart_column, native)
        chart_row = _row_reached(sheet, chart_row, CHART_ROWS * 20 + 10)
    row = max(row, chart_row)
    # one table: its heading and header rows stay on screen and repeat on every printed page
    last_fixed = header_rows[0] if len(header_rows) == 1 else 1
    sheet.freeze_panes(last_fixed + 1, 0)
    sheet.repeat_rows(0, last_fixed)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_footer("&C第 &P 页 共 &N 页")
    sheet.print_area(0, 0, max(row - 1, 1), last_column)


def to_xlsx(report: Report) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            # text is text: never read as a formula, a number or a link
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    workbook.set_properties({"title": report.title, "subject": report.period, "company": report.issuer})
    formats = _Formats(workbook)
    for sheet in report.sheets:
        if sheet.documents_only:
            continue
        _write_sheet(workbook, report, sheet, formats)
    workbook.close()
    return out.getvalue()
