"""One table as CSV: UTF-8 with a BOM (so Excel opens Chinese correctly), numbers as written,
text that a spreadsheet would run as a formula prefixed with ``'``."""

from __future__ import annotations

import csv
import io
from typing import Any

from shared.exports.model import Table, as_number, neutralise


def _cell(kind: str, value: Any) -> Any:
    if value is None:
        return ""
    if kind in ("integer", "number", "rate"):
        return as_number(value)
    return neutralise(value if isinstance(value, str) else str(value))


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(c.header) for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(c.kind, v) for c, v in zip(table.columns, row, strict=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
