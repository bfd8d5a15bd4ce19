"""One writer for every export of the platform (XLSX, CSV, DOCX, PDF) and the content
negotiation of endpoints that answer in several formats.

A service describes its report once (``Report``: title block, body sentences, tables with row
marks, charts) and ``to_xlsx`` / ``to_csv`` / ``to_docx`` / ``to_pdf`` write it. Every text
cell passes through here, so text that a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or CR) never becomes one: XLSX writes it as a string cell with
Excel's quote prefix (the text is kept exact), CSV prefixes it with ``'``.

The writers' libraries (XlsxWriter, python-docx, ReportLab: a tenth of a second of CPU to
import) load with the first export of their format, not with every process that imports this.
"""

from shared.exports.csv_writer import to_csv
from shared.exports.model import (
    Chart,
    Column,
    Report,
    Sheet,
    Table,
    chinese_date,
    display_width,
    is_formula_like,
    neutralise,
)
from shared.exports.negotiation import CSV, DOCX, JSON, PDF, XLSX, Negotiated, negotiate


def to_xlsx(report: Report) -> bytes:
    from shared.exports.xlsx import to_xlsx as write

    return write(report)


def to_docx(report: Report) -> bytes:
    from shared.exports.documents import to_docx as write

    return write(report)


def to_pdf(report: Report) -> bytes:
    from shared.exports.documents import to_pdf as write

    return write(report)


__all__ = [
    "CSV",
    "DOCX",
    "JSON",
    "PDF",
    "XLSX",
    "Chart",
    "Column",
    "Negotiated",
    "Report",
    "Sheet",
    "Table",
    "chinese_date",
    "display_width",
    "is_formula_like",
    "negotiate",
    "neutralise",
    "to_csv",
    "to_docx",
    "to_pdf",
    "to_xlsx",
]
