"""The jurisdiction registry: province → city → county/district, and development zones.

The codes are data: every GB/T 2260 code at county level and above that the Ministry of
Civil Affairs has published since 1981 (``gbt2260.csv``, with the year each code was
retired and its successors), plus the project's local codes for development zones, which
GB/T 2260 does not code (``zones.yaml``, ``<city>-Znn``, kind ``zone``). README.md beside
this file names the source and how to bring the data up to date.

A code that is retired stays known: records registered under it still resolve (marked
retired, with the successors the source names) and stay inside their city's tree for
access. New input must name a code in use (:data:`JurisdictionCode`).

Lookups are dictionary reads on tables built once at load: ``contains`` walks at most
four ancestors, ``subtree`` and the scope of a set of codes are cached.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, NamedTuple, get_args

import yaml
from pydantic import AfterValidator, StringConstraints, WithJsonSchema

from shared.errors import PackError
from shared.packs import SafeLoader

Kind = Literal["province", "city", "district", "county", "zone"]
KINDS: frozenset[str] = frozenset(get_args(Kind))
DATA_DIR = Path(__file__).parent
CODES_FILE = DATA_DIR / "gbt2260.csv"
ZONES_FILE = DATA_DIR / "zones.yaml"
CODE_PATTERN = r"^[0-9]{6}(-Z[0-9]{2})?$"
_GB_CODE = re.compile(r"[0-9]{6}")
_ZONE_CODE = re.compile(r"(?P<city>[0-9]{6})-Z[0-9]{2}")
_SCOPE_CACHE_SIZE = 4096


class JurisdictionEntry(NamedTuple):
    """One row of the registry's data, before the tree is built."""

    code: str
    name: str
    kind: str
    parent: str | None = None
    since: int | None = None
    retired: int | None = None
    successors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    code: str
    name: str
    kind: Kind
    parent: str | None
    children: tuple[str, ...] = field(default=())
    """The children in use (``subtree(code, retired=True)`` lists the retired ones too)."""
    since: int | None = None
    """The first year the code was in use (1981: already in the earliest list)."""
    retired: int | None = None
    """The year the code was retired; ``None`` while it is in use."""
    successors: tuple[str, ...] = ()
    """The codes that took over the area when the code was retired, where the source says."""

    @property
    def is_zone(self) -> bool:
        return self.kind == "zone"

    @property
    def in_use(self) -> bool:
        return self.retired is None

    @property
    def city(self) -> str:
        """The city (or province-level unit) a county, district or zone belongs to; a city itself."""
        if self.kind in ("province", "city"):
            return self.code
        return self.parent or self.code


class JurisdictionRegistry:
    def __init__(
        self,
        entries: Iterable[JurisdictionEntry],
        source: str = "jurisdictions",
        about: Mapping[str, str] | None = None,
    ) -> None:
        self.source = source
        self.about: dict[str, str] = dict(about or {})
        rows: dict[str, JurisdictionEntry] = {}
        for index, entry in enumerate(entries):
            if entry.code in rows:
                raise PackError(source, f"{index}.code", f"duplicate code {entry.code}")
            if entry.kind not in KINDS:
                raise PackError(source, f"{entry.code}.kind", f"unknown kind {entry.kind!r}")
            rows[entry.code] = entry
        below: dict[str, list[str]] = {code: [] for code in rows}
        in_use_below: dict[str, list[str]] = {code: [] for code in rows}
        for entry in rows.values():
            _check_links(entry, rows, source)
            if entry.parent is not None:
                below[entry.parent].append(entry.code)
                if entry.retired is None:
                    in_use_below[entry.parent].append(entry.code)
        self._rows = rows
        self._children = {code: tuple(children) for code, children in in_use_below.items()}
        self._below = {code: tuple(children) for code, children in below.items()}
        self._ancestors: dict[str, tuple[str, ...]] = {}
        for code in rows:
            self._ancestors[code] = self._chain(code, source)
        self._every = tuple(rows)
        self._in_use = tuple(code for code, entry in rows.items() if entry.retired is None)
        # built on first use: most codes are never looked up by a running service
        self._items: dict[str, Jurisdiction] = {}
        self._subtrees: dict[tuple[str, bool], tuple[str, ...]] = {}
        self._scopes: dict[tuple[str, ...], tuple[str, ...]] = {}

    def _chain(self, code: str, source: str) -> tuple[str, ...]:
        chain = [code]
        parent = self._rows[code].parent
        while parent is not None:
            known = self._ancestors.get(parent)
            if known is not None:
                return (*chain, *known)
            if parent in chain:
                raise PackError(source, f"{code}.parent", f"the parents of {code} form a loop")
            chain.append(parent)
            parent = self._rows[parent].parent
        return tuple(chain)

    def __contains__(self, code: object) -> bool:
        """True for every known code, in use or retired."""
        return code in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, code: str) -> Jurisdiction | None:
        item = self._items.get(code)
        if item is None:
            entry = self._rows.get(code)
            if entry is None:
                return None
            item = self._items[code] = Jurisdiction(
                code=entry.code,
                name=entry.name,
                kind=entry.kind,  # type: ignore[arg-type]  # checked against KINDS on load
                parent=entry.parent,
                children=self._children[code],
                since=entry.since,
                retired=entry.retired,
                successors=entry.successors,
            )
        return item

    def require(self, code: str) -> Jurisdiction:
        item = self.get(code)
        if item is None:
            raise KeyError(code)
        return item

    def in_use(self, code: str) -> bool:
        entry = self._rows.get(code)
        return entry is not None and entry.retired is None

    def codes(self, *, retired: bool = False) -> tuple[str, ...]:
        """Every code in use (with ``retired=True``: every known code), in :meth:`all`'s order."""
        return self._every if retired else self._in_use

    def all(self, *, retired: bool = False) -> list[Jurisdiction]:
        """Every jurisdiction in use, in code order (zones after their city's counties);
        with ``retired=True`` the retired ones too."""
        return [self.require(code) for code in self.codes(retired=retired)]

    def ancestors_and_self(self, code: str) -> list[str]:
        """``code`` first, then its parent, up to the province."""
        return list(self._ancestors[code])

    def subtree(self, code: str, *, retired: bool = False) -> list[str]:
        """``code`` and every jurisdiction in use below it, depth first, children in code
        order and zones after the counties; with ``retired=True`` retired codes below it too."""
        return list(self._subtree(code, retired))

    def _subtree(self, code: str, retired: bool) -> tuple[str, ...]:
        key = (code, retired)
        found = self._subtrees.get(key)
        if found is None:
            children = self._below[code] if retired else self._children[code]
            codes = [code]
            for child in children:
                codes.extend(self._subtree(child, retired))
            found = self._subtrees[key] = tuple(codes)
        return found

    def contains(self, ancestor: str, code: str) -> bool:
        """True when ``code`` is ``ancestor`` or lies below it (retired codes included)."""
        return ancestor in self._ancestors.get(code, ())

    def scope(self, codes: Iterable[str]) -> tuple[str, ...]:
        """Every code, in use or retired, at or below one of ``codes`` (unknown ones are
        skipped), each once. Cached: a caller's scope is computed once, not per request."""
        key = tuple(codes)
        found = self._scopes.get(key)
        if found is None:
            seen: dict[str, None] = {}
            for own in key:
                if own in self._rows:
                    seen.update(dict.fromkeys(self._subtree(own, True)))
            found = tuple(seen)
            if len(self._scopes) >= _SCOPE_CACHE_SIZE:
                self._scopes.clear()
            self._scopes[key] = found
        return found

    def successors_in_use(self, code: str) -> list[str]:
        """The codes in use that took over a retired code's area, following successors that
        were themselves retired later; ``[code]`` for a code in use."""
        found: dict[str, None] = {}
        pending = [code]
        seen: set[str] = set()
        while pending:
            current = pending.pop(0)
            entry = self._rows.get(current)
            if entry is None or current in seen:
                continue
            seen.add(current)
            if entry.retired is None:
                found[current] = None
            else:
                pending.extend(entry.successors)
        return list(found)

    def retirement_note(self, code: str) -> str:
        """``211121 (大洼县) was retired in 2016; in use now: 211104 (大洼区)``."""
        item = self.require(code)
        if item.retired is None:
            return f"{code} ({item.name}) is in use"
        after = [f"{successor} ({self._rows[successor].name})" for successor in self.successors_in_use(code)]
        note = f"{code} ({item.name}) was retired in {item.retired}"
        return f"{note}; in use now: {', '.join(after)}" if after else note


def _check_links(entry: JurisdictionEntry, rows: Mapping[str, JurisdictionEntry], source: str) -> None:
    if entry.parent is not None:
        parent = rows.get(entry.parent)
        if parent is None:
            raise PackError(source, f"{entry.code}.parent", f"unknown parent {entry.parent}")
        if entry.retired is None and parent.retired is not None:
            raise PackError(
                source, f"{entry.code}.parent", f"{entry.code} is in use below retired {parent.code}"
            )
    for successor in entry.successors:
        if successor not in rows:
            raise PackError(source, f"{entry.code}.successors", f"unknown successor {successor}")


def read_codes(path: Path = CODES_FILE) -> tuple[list[JurisdictionEntry], dict[str, str]]:
    """The rows of ``gbt2260.csv`` and the ``# key: value`` lines of its header."""
    about: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            lines = iter(handle)
            header = _comments(lines, about)
            if header != "code,name,kind,parent,since,retired,successors":
                raise PackError(path.name, "-", f"unexpected columns {header!r}")
            source = path.name
            entries = [_code_entry(source, row) for row in csv.reader(lines)]
    except FileNotFoundError as exc:
        raise PackError(str(path), "-", "file not found") from exc
    return entries, about


def _comments(lines: Iterator[str], about: dict[str, str]) -> str:
    for line in lines:
        if not line.startswith("#"):
            return line.strip()
        key, colon, value = line[1:].partition(":")
        if colon:
            about[key.strip()] = value.strip()
    return ""


def _code_entry(source: str, row: list[str]) -> JurisdictionEntry:
    try:
        code, name, kind, parent, since, retired, successors = row
    except ValueError as exc:
        raise PackError(source, ",".join(row)[:40], "expected 7 columns") from exc
    if not _GB_CODE.fullmatch(code) or not name:
        raise PackError(source, code, "not a 6-digit code with a name")
    return JurisdictionEntry(
        code,
        name,
        kind,
        parent or None,
        int(since) if since else None,
        int(retired) if retired else None,
        tuple(successors.split()) if successors else (),
    )


def read_zones(path: Path = ZONES_FILE) -> list[JurisdictionEntry]:
    """The development zones: ``<city>-Znn`` codes below their city, kind ``zone``."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=SafeLoader)  # noqa: S506 - a safe loader
    except FileNotFoundError as exc:
        raise PackError(str(path), "-", "file not found") from exc
    except yaml.YAMLError as exc:
        raise PackError(path.name, "-", f"not valid YAML: {exc}") from exc
    zones = data.get("zones") if isinstance(data, dict) else None
    if not isinstance(zones, list):
        raise PackError(path.name, "zones", "a list of zones is required")
    entries = []
    allowed = {"code", "name", "parent", "retired", "successors"}
    for index, zone in enumerate(zones):
        where = f"zones.{index}"
        if not isinstance(zone, dict) or set(zone) - allowed or not {"code", "name", "parent"} <= set(zone):
            raise PackError(path.name, where, f"each zone has code, name and parent (and may have {allowed})")
        code, name, parent = (str(zone[key]) for key in ("code", "name", "parent"))
        match = _ZONE_CODE.fullmatch(code)
        if match is None or match.group("city") != parent:
            raise PackError(path.name, f"{where}.code", f"{code} is not <parent>-Znn for parent {parent}")
        retired = zone.get("retired")
        if retired is not None and not isinstance(retired, int):
            raise PackError(path.name, f"{where}.retired", "the year the zone's code was retired")
        successors = zone.get("successors", [])
        if not isinstance(successors, list):
            raise PackError(path.name, f"{where}.successors", "a list of codes")
        entries.append(
            JurisdictionEntry(
                code=code,
                name=name,
                kind="zone",
                parent=parent,
                retired=retired,
                successors=tuple(str(successor) for successor in successors),
            )
        )
    return entries


def load_registry(codes_file: Path = CODES_FILE, zones_file: Path = ZONES_FILE) -> JurisdictionRegistry:
    codes, about = read_codes(codes_file)
    zones = read_zones(zones_file)
    return JurisdictionRegistry(
        [*codes, *zones], source=f"{codes_file.name} + {zones_file.name}", about=about
    )


ZONES_FILE_SETTING = "JURISDICTION_ZONES_FILE"


@cache
def registry() -> JurisdictionRegistry:
    """The registry every service uses: GB/T 2260 codes and the zones file, which a deployment
    may replace with its own (``JURISDICTION_ZONES_FILE``, e.g. a third city's zones)."""
    zones = os.environ.get(ZONES_FILE_SETTING)
    return load_registry(zones_file=Path(zones)) if zones else load_registry()


def _in_use(code: str) -> str:
    place = registry().get(code)
    if place is None:
        raise ValueError(f"unknown jurisdiction {code}")
    if place.retired is not None:
        raise ValueError(registry().retirement_note(code))
    return code


def _known(code: str) -> str:
    if code not in registry():
        raise ValueError(f"unknown jurisdiction {code}")
    return code


def _schema(description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": CODE_PATTERN, "description": description})


JurisdictionCode = Annotated[
    str,
    StringConstraints(pattern=CODE_PATTERN),
    AfterValidator(_in_use),
    _schema("GB/T 2260 code in use, or <city>-Znn for a development zone"),
]
"""A jurisdiction code in use, for anything new. Declared as a pattern in OpenAPI; an unknown
or retired code is refused with 422 naming it (and, when retired, the codes in use after it)."""

KnownJurisdictionCode = Annotated[
    str,
    StringConstraints(pattern=CODE_PATTERN),
    AfterValidator(_known),
    _schema("GB/T 2260 code (in use or retired), or <city>-Znn for a development zone"),
]
"""Any known code, retired ones too: for reading what was registered under a code later retired."""
