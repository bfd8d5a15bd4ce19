"""Builds ``gbt2260.csv`` from the Ministry of Civil Affairs codes with their history.

The input is ``result.csv`` of https://github.com/yescallop/areacodes (CC0): every
county-level and higher code the Ministry of Civil Affairs (民政部) has published since
1981, one row per code and period of use, with the year it came into use, the year it
was changed or retired, and the codes that took over the area. This keeps one row per
code: the one in use, or else the most recent period, with the successor codes the source
names for that retirement.

    python -m shared.jurisdictions.build result.csv --source "yescallop/areacodes@<commit> result.csv" \\
        --as-of 2024-12-31 > shared/shared/jurisdictions/gbt2260.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("code", "name", "kind", "parent", "since", "retired", "successors")
_LEVELS = {"省级": "province", "地级": "city", "县级": "county"}
_SUCCESSOR = re.compile(r"^(?P<code>[0-9]{6})(?:\[(?P<year>[0-9]{4})\])?$")


@dataclass(frozen=True)
class SourceRow:
    code: str
    name: str
    level: str
    in_use: bool
    since: int
    until: int | None
    successors: str


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    kind: str
    parent: str
    since: int
    retired: int | None
    successors: tuple[str, ...]


def read_source(text: str) -> list[SourceRow]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    for record in reader:
        until = record["变更/弃用时间"]
        rows.append(
            SourceRow(
                code=record["代码"],
                name=record["名称"],
                level=_LEVELS[record["级别"]],
                in_use=record["状态"] == "在用",
                since=int(record["启用时间"]),
                until=int(until) if until else None,
                successors=record["新代码"],
            )
        )
    return rows


def county_kind(name: str) -> str:
    """``district`` for a 市辖区, ``county`` for every other county-level unit.

    County-level units are 市辖区, 县, 自治县, 旗, 自治旗, 县级市, 特区 and 林区. Only the
    last two are named "…区" without being districts: 六枝特区 (and the former 万山特区)
    and 神农架林区, the one 林区 (万柏林区, 碑林区 … are districts).
    """
    if name.endswith("特区") or name == "神农架林区":
        return "county"
    return "district" if name.endswith("区") else "county"


def successors_at_retirement(field: str, retired: int) -> tuple[str, ...]:
    """The codes that took over the area when the code was retired.

    ``130108[2001];130111`` names 130108 for a part handed over in 2001 (earlier than the
    retirement) and 130111 for the retirement itself: only the latter is a successor.
    """
    found = []
    for part in filter(None, field.split(";")):
        match = _SUCCESSOR.match(part)
        if match is None:
            raise ValueError(f"unreadable successor {part!r}")
        year = match.group("year")
        if year is None or int(year) == retired:
            found.append(match.group("code"))
    return tuple(found)


def parent_of(code: str, known: set[str]) -> str:
    """The prefecture (``XXYY00``) when it is a code, else the province (``XX0000``)."""
    if code.endswith("0000"):
        return ""
    if code.endswith("00"):
        return code[:2] + "0000"
    prefecture = code[:4] + "00"
    return prefecture if prefecture in known else code[:2] + "0000"


def build(source: Iterable[SourceRow]) -> list[Row]:
    by_code: dict[str, list[SourceRow]] = {}
    for row in source:
        by_code.setdefault(row.code, []).append(row)
    known = set(by_code)
    rows = []
    for code in sorted(by_code):
        periods = by_code[code]
        current = [period for period in periods if period.in_use]
        if len(current) > 1:
            raise ValueError(f"{code} is in use twice")
        chosen = current[0] if current else max(periods, key=lambda period: period.until or 0)
        retired = None if chosen.in_use else chosen.until
        kind = county_kind(chosen.name) if chosen.level == "county" else chosen.level
        rows.append(
            Row(
                code=code,
                name=chosen.name,
                kind=kind,
                parent=parent_of(code, known),
                since=chosen.since,
                retired=retired,
                successors=() if retired is None else successors_at_retirement(chosen.successors, retired),
            )
        )
    return rows


def write(rows: list[Row], *, source: str, as_of: str) -> str:
    out = io.StringIO()
    out.write(
        "# GB/T 2260 administrative division codes, county level and above, as published by the\n"
        "# Ministry of Civil Affairs (民政部), with every code retired since 1981.\n"
        f"# source: {source}\n"
        f"# as-of: {as_of}\n"
        "# licence: CC0 1.0 (the collection); the codes are official data of 民政部\n"
        "# built by: python -m shared.jurisdictions.build (see README.md beside this file)\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.code,
                row.name,
                row.kind,
                row.parent,
                row.since,
                "" if row.retired is None else row.retired,
                " ".join(row.successors),
            ]
        )
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("result_csv", type=Path, help="result.csv of yescallop/areacodes")
    parser.add_argument("--source", required=True, help="where it came from: repository@commit and file")
    parser.add_argument("--as-of", required=True, help="the date of the newest list it holds (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    rows = build(read_source(args.result_csv.read_text(encoding="utf-8")))
    sys.stdout.write(write(rows, source=args.source, as_of=args.as_of))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
