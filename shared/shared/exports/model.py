"""What a report is, independent of its format: a title block (title, period, issuing office,
date made), body sentences, sections of tables and charts. ``shared.exports`` writes one
report as XLSX, CSV, DOCX or PDF.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["text", "integer", "number", "rate", "date"]
Mark = Literal["overdue", "lagging"] | None

#: Row marks as staff read them (the legend under a marked table).
MARK_LABELS = {"overdue": "逾期", "lagging": "滞后或未报送"}

#: First characters that make a spreadsheet read a cell as a formula or command (OWASP CSV
#: injection; tab and CR too, which some programs strip before parsing). Full-width forms are
#: included: input methods produce them and some spreadsheets fold them to ASCII.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """Text that a spreadsheet would run as a formula, prefixed with ``'`` (for CSV). XLSX cells
    keep the text exact and carry Excel's quote prefix instead."""
    return "'" + text if is_formula_like(text) else text


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet or a monospaced line: CJK and full-width count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"
    #: widest the column is fitted to, in half-width characters; longer text wraps
    max_width: int = 40


@dataclass
class Table:
    heading: str
    columns: Sequence[Column]
    rows: list[Sequence[Any]]
    #: per row: "overdue" (red) or "lagging" (amber) highlights it; empty: none
    marks: list[Mark] = field(default_factory=list)
    note: str | None = None
    #: in a workbook, the last column spans the sheet's remaining columns (a long list beside
    #: narrow tables on the same sheet)
    span_last: bool = False
    #: in a workbook, show only the rows whose value in column ``filter[0]`` is one of
    #: ``filter[1]`` (an autofilter: the other rows are hidden, not dropped)
    filter: tuple[int, Sequence[str]] | None = None

    def mark(self, index: int) -> Mark:
        return self.marks[index] if index < len(self.marks) else None


@dataclass(frozen=True)
class Chart:
    """A native chart over one table: a category column and one series per value column."""

    title: str
    table: Table
    category: int
    series: Sequence[int]
    kind: Literal["stacked_bar", "column"] = "stacked_bar"
    percent: bool = False


@dataclass
class Sheet:
    name: str
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    #: a sheet only the workbook has (left out of the DOCX and PDF documents)
    workbook_only: bool = False
    #: a sheet only the documents have (the workbook shows its rows elsewhere)
    documents_only: bool = False


@dataclass
class Report:
    title: str
    period: str
    issuer: str
    made_on: dt.date
    sheets: list[Sheet]
    #: the document number of the plan or scheme the report is about
    reference: str | None = None
    #: body sentences of the 通报 (DOCX, PDF), each a paragraph
    paragraphs: list[str] = field(default_factory=list)

    @property
    def byline(self) -> str:
        return f"期间：{self.period}　　发文单位：{self.issuer}　　制表日期：{chinese_date(self.made_on)}"


def chinese_date(day: dt.date) -> str:
    """成文日期 as GB/T 9704-2012 writes it: Arabic numerals, year, month and day in full."""
    return f"{day.year}年{day.month}月{day.day}日"


def as_number(value: Any) -> float | int | None:
    """A decimal string or Decimal as a spreadsheet number; None and "" stay empty."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return value
    exact = Decimal(str(value))
    return int(exact) if exact == exact.to_integral_value() else float(exact)
