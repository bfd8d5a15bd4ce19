"""The jurisdiction registry (city → county/district/zone), the tree access follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, WithJsonSchema

from shared.errors import PackError
from shared.packs import parse_pack

Kind = Literal["city", "district", "county", "zone"]
REGISTRY_FILE = Path(__file__).with_name("jurisdictions.yaml")


class JurisdictionEntry(BaseModel):
    code: str
    name: str
    kind: Kind
    parent: str | None = None
    name_en: str | None = None


class _RegistryFile(BaseModel):
    jurisdictions: list[JurisdictionEntry]


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    kind: Kind
    parent: str | None
    children: tuple[str, ...] = field(default=())

    @property
    def is_zone(self) -> bool:
        return self.kind == "zone"

    @property
    def city(self) -> str:
        return self.parent or self.code


class JurisdictionRegistry:
    def __init__(self, entries: list[JurisdictionEntry], source: str = "jurisdictions") -> None:
        by_code: dict[str, JurisdictionEntry] = {}
        for index, entry in enumerate(entries):
            if entry.code in by_code:
                raise PackError(source, f"jurisdictions.{index}.code", f"duplicate code {entry.code}")
            by_code[entry.code] = entry
        for index, entry in enumerate(entries):
            if entry.parent is not None and entry.parent not in by_code:
                raise PackError(source, f"jurisdictions.{index}.parent", f"unknown parent {entry.parent}")
        self._items = {
            entry.code: Jurisdiction(
                code=entry.code,
                name=entry.name,
                kind=entry.kind,
                parent=entry.parent,
                children=tuple(e.code for e in entries if e.parent == entry.code),
            )
            for entry in entries
        }

    def __contains__(self, code: object) -> bool:
        return code in self._items

    def get(self, code: str) -> Jurisdiction | None:
        return self._items.get(code)

    def require(self, code: str) -> Jurisdiction:
        item = self._items.get(code)
        if item is None:
            raise KeyError(code)
        return item

    def all(self) -> list[Jurisdiction]:
        return list(self._items.values())

    def ancestors_and_self(self, code: str) -> list[str]:
        """``code`` first, then its parent, up to the root."""
        chain: list[str] = []
        current: str | None = code
        while current is not None:
            chain.append(current)
            current = self._items[current].parent
        return chain

    def subtree(self, code: str) -> list[str]:
        """``code`` and every jurisdiction below it."""
        result = [code]
        for child in self._items[code].children:
            result.extend(self.subtree(child))
        return result

    def contains(self, ancestor: str, code: str) -> bool:
        """True when ``code`` is ``ancestor`` or lies below it."""
        return code in self._items and ancestor in self.ancestors_and_self(code)


@cache
def registry() -> JurisdictionRegistry:
    data = parse_pack(REGISTRY_FILE, _RegistryFile)
    return JurisdictionRegistry(data.jurisdictions, source=REGISTRY_FILE.name)


def _known_code(code: str) -> str:
    if code not in registry():
        raise ValueError(f"unknown jurisdiction {code}")
    return code


JurisdictionCode = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "enum": [entry.code for entry in parse_pack(REGISTRY_FILE, _RegistryFile).jurisdictions],
            "description": "GB/T 2260 code, or <city>-Znn for a development zone",
        }
    ),
    AfterValidator(_known_code),
]
"""A jurisdiction code that must be in the registry (declared as an enum in OpenAPI)."""
