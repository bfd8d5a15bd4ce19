"""Proactive discovery: group the register by county catalogue, run the query, explain each hit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.pack import Catalogue
from eldercare.catalogues.service import CatalogueLibrary
from eldercare.discoveries import repository
from eldercare.discoveries.events import (
    ItemWatch,
    check_window,
    describe_change,
    eligible_from,
    event_ages,
    watches,
)
from eldercare.discoveries.schemas import DiscoveredItem, Discovery
from eldercare.interpretations import EldercareInterpretations
from shared.errors import InvalidInput
from shared.jurisdictions import registry
from shared.pagination import PageParams


async def find(
    session: AsyncSession,
    *,
    library: CatalogueLibrary,
    settings: EldercareInterpretations,
    jurisdiction: str,
    start: dt.date,
    end: dt.date,
    page: PageParams,
    projected: bool = False,
) -> tuple[list[Discovery], int]:
    """Persons in ``jurisdiction`` and below who become eligible for an item in [start, end]."""
    check_window(start, end)
    codes = registry().subtree(jurisdiction)
    covered = [code for code in codes if library.city_of(code) is not None]
    if not covered:
        raise InvalidInput.field("query.jurisdiction", f"no service catalogue covers {jurisdiction}")
    effective = await library.effective_many(session, covered)
    by_catalogue: dict[int, list[str]] = {}
    catalogues: dict[int, Catalogue] = {}
    for code, found in effective.items():
        key = id(found.catalogue)  # counties without overrides share the city's catalogue
        by_catalogue.setdefault(key, []).append(code)
        catalogues[key] = found.catalogue
    groups = []
    items_by_code: dict[str, dict[int, ItemWatch]] = {}
    for key, members in by_catalogue.items():
        item_watches = watches(catalogues[key], settings)
        groups.append(repository.Group(members, item_watches, event_ages(item_watches, settings)))
        for code in members:
            items_by_code[code] = {w.number: w for w in item_watches}
    rows, total = await repository.discoveries(
        session, groups, start, end, settings, page, projected=projected
    )
    return [_discovery(row, items_by_code[row.jurisdiction], settings) for row in rows], total


def _discovery(row: Any, items: dict[int, ItemWatch], settings: EldercareInterpretations) -> Discovery:
    found: dict[int, DiscoveredItem] = {}
    for number in row.eligible:
        watch = items[number]
        found[number] = DiscoveredItem(
            item=number,
            name=watch.name,
            change="eligible",
            eligible_from=eligible_from(row.event, row.event_on, watch.monthly_allowance, settings),
        )
    for number in row.amounts:
        if number in found:
            continue
        watch = items[number]
        notes = [part.band_changes[row.age] for part in watch.money if row.age in part.band_changes]
        found[number] = DiscoveredItem(
            item=number,
            name=watch.name,
            change="amount",
            eligible_from=eligible_from(row.event, row.event_on, watch.monthly_allowance, settings),
            note="; ".join(notes) or "a component with an amount newly applies",
        )
    if row.event == "birthday":
        reason = f"turns {row.age} on {row.event_on.isoformat()}"
    else:
        reason = f"circumstances from {row.event_on.isoformat()}: {describe_change(row.before, row.after)}"
    return Discovery(
        person_id=row.person_id,
        name=row.name,
        citizen_id=row.citizen_id_masked,
        jurisdiction=row.jurisdiction,
        event=row.event,
        event_on=row.event_on,
        reason=reason,
        items=sorted(found.values(), key=lambda item: item.item),
    )
