"""Effective catalogues (the city pack merged with a county's saved overrides) and saving overrides.

驻政办〔2023〕35号 二（一）1: each county publishes its own list, containing every city item,
never lower. A person is evaluated against the catalogue of their county. Merged
catalogues are cached per saved overrides version, so an evaluation costs one small
query (which version is newest) and no merge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues import repository
from eldercare.catalogues.models import CatalogueOverrideVersion
from eldercare.catalogues.pack import Catalogue
from eldercare.catalogues.rules import merge, parse_overrides
from eldercare.catalogues.schemas import CatalogueOverridesIn, CatalogueRead
from eldercare.db import audit_log
from eldercare.interpretations import EldercareInterpretations
from shared.audit import record_audit
from shared.auth import Principal
from shared.concurrency import require_if_match
from shared.errors import InvalidInput, NotFound
from shared.jurisdictions import registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EffectiveCatalogue:
    """The catalogue that applies in a jurisdiction, and which saved overrides made it."""

    jurisdiction: str
    catalogue: Catalogue
    """The merged county catalogue; for a county without overrides, the city's own object."""
    overrides_version: int
    """0: no county overrides (the city catalogue applies as it is)."""
    problem: str | None = None
    """Saved overrides that no longer pass the checks (e.g. the city raised a standard above
    them): the city catalogue applies, and this says why."""


class CatalogueBook:
    """The city catalogue packs, and the county catalogues built from them on demand."""

    def __init__(self, packs: dict[str, Catalogue], interpretations: EldercareInterpretations) -> None:
        self.packs = packs
        self.interpretations = interpretations
        self._cache: dict[str, tuple[int, EffectiveCatalogue]] = {}

    def city_of(self, jurisdiction: str) -> Catalogue | None:
        """The pack that covers ``jurisdiction`` (its own, or its city's)."""
        if jurisdiction not in registry():
            return None
        for code in registry().ancestors_and_self(jurisdiction):
            if code in self.packs:
                return self.packs[code]
        return None

    def require_city(self, jurisdiction: str) -> Catalogue:
        city = self.city_of(jurisdiction)
        if city is None:
            known = ", ".join(sorted(self.packs)) or "none"
            raise NotFound(f"No service catalogue covers jurisdiction {jurisdiction} (catalogues: {known}).")
        return city

    async def effective(self, session: AsyncSession, jurisdiction: str) -> EffectiveCatalogue:
        """The catalogue of ``jurisdiction``; NotFound when no pack covers it."""
        return (await self.effective_many(session, [jurisdiction]))[jurisdiction]

    async def effective_many(
        self, session: AsyncSession, jurisdictions: Sequence[str]
    ) -> dict[str, EffectiveCatalogue]:
        """The catalogues of several jurisdictions, with one query for their newest overrides."""
        cities = {code: self.require_city(code) for code in jurisdictions}
        counties = [code for code, city in cities.items() if code != city.jurisdiction]
        newest = await repository.latest_ids(session, counties) if counties else {}
        result: dict[str, EffectiveCatalogue] = {}
        for code, city in cities.items():
            row_id, _version = newest.get(code, (0, 0))
            cached = self._cache.get(code)
            if cached is not None and cached[0] == row_id:
                result[code] = cached[1]
                continue
            row = await repository.by_id(session, row_id) if row_id else None
            effective = self._build(code, city, row)
            self._cache[code] = (row_id, effective)
            result[code] = effective
        return result

    def _build(self, code: str, city: Catalogue, row: CatalogueOverrideVersion | None) -> EffectiveCatalogue:
        # without overrides a county shares the city's catalogue object itself, so batch work
        # (snapshots, discovery) sees one catalogue for all such counties
        if code == city.jurisdiction or row is None:
            return EffectiveCatalogue(code, city, 0)
        try:
            merged = merge(city, parse_overrides(row.body), self.interpretations)
        except InvalidInput as exc:
            logger.error(
                "saved catalogue overrides no longer pass the checks",
                extra={"jurisdiction": code, "version": row.version, "detail": exc.detail},
            )
            problem = f"overrides version {row.version} no longer pass the checks: {exc.detail}"
            return EffectiveCatalogue(code, city, 0, problem)
        return EffectiveCatalogue(code, merged, row.version)


def _for_rules(data: CatalogueOverridesIn, jurisdiction: str) -> dict[str, Any]:
    body = data.model_dump(mode="json", exclude_none=True)
    return {"jurisdiction": jurisdiction, **body}


async def save_overrides(
    session: AsyncSession,
    *,
    book: CatalogueBook,
    principal: Principal,
    jurisdiction: str,
    data: CatalogueOverridesIn,
    if_match: str | None,
) -> EffectiveCatalogue:
    """Check and save a county's overrides as a new version (nothing is overwritten)."""
    city = book.require_city(jurisdiction)
    if jurisdiction == city.jurisdiction:
        raise InvalidInput.field(
            "path.jurisdiction",
            f"{jurisdiction} is the city: its catalogue is the policy pack; overrides are for its "
            "counties, districts and zones",
        )
    await repository.lock_jurisdiction(session, jurisdiction)
    current = await repository.latest(session, jurisdiction)
    # The catalogue exists before any override (the city's items): its ETag names version 0.
    require_if_match(if_match, jurisdiction, current.version if current else 0)
    overrides = parse_overrides(_for_rules(data, jurisdiction), location="body")
    merged = merge(city, overrides, book.interpretations, location="body")
    row = CatalogueOverrideVersion(
        jurisdiction=jurisdiction,
        version=(current.version if current else 0) + 1,
        body=overrides.model_dump(mode="json"),
        created_by=principal.actor,
    )
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create" if current is None else "replace",
        entity="catalogue_overrides",
        entity_id=jurisdiction,
        jurisdiction=jurisdiction,
        before=None if current is None else {"version": current.version, **current.body},
        after={"version": row.version, **row.body},
    )
    return EffectiveCatalogue(jurisdiction, merged, row.version)


def catalogue_read(effective: EffectiveCatalogue) -> CatalogueRead:
    data = effective.catalogue.model_dump(mode="json")
    items = []
    for item in data["items"].values():
        item["components"] = list(item["components"].values())
        item["extensions"] = list(item["extensions"].values())
        items.append(item)
    if data["jurisdiction"] != effective.jurisdiction:  # a county without overrides: the city list
        data["based_on"] = data["jurisdiction"]
        data["jurisdiction"] = effective.jurisdiction
    return CatalogueRead.model_validate(
        {
            **data,
            "parameters": [{"key": key, **value} for key, value in data["parameters"].items()],
            "items": items,
            "overrides_version": effective.overrides_version,
            "overrides_problem": effective.problem,
        }
    )
