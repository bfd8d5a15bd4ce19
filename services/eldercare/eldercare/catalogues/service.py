"""Effective catalogues (the city pack merged with a county's saved overrides) and saving overrides.

驻政办〔2023〕35号 二（一）1: each county publishes its own list, containing every city item,
never lower. A person is evaluated against the catalogue of their county. Merged
catalogues are cached per saved overrides version, so an evaluation costs one small
query (which row is newest) and no merge. Saved overrides are dated versions under the
platform's rule for dated data (:mod:`eldercare.catalogues.history`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues import repository
from eldercare.catalogues.history import (
    CatalogueHistory,
    Days,
    NumberedVersion,
    Stated,
    VersionCollision,
    describe,
)
from eldercare.catalogues.models import CatalogueOverrideVersion
from eldercare.catalogues.overrides import merge, parse_overrides
from eldercare.catalogues.pack import Catalogue, CityCatalogues, CountyListDeadline, stated_validity
from eldercare.catalogues.schemas import (
    CatalogueOverridesIn,
    CatalogueRead,
    CitationRead,
    CityVersionRead,
    CountyListPublicationRead,
    CountyListRead,
    OverrideVersionRead,
)
from eldercare.interpretations import EldercareInterpretations
from shared.concurrency import require_if_match
from shared.dated_schemas import version_history_read
from shared.errors import Conflict, InvalidInput, NotFound
from shared.jurisdictions import registry
from shared.months import policy_today
from shared.writes import Event, WriteContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EffectiveCatalogue:
    """The catalogue that applies in a jurisdiction on a day, and which saved overrides made it."""

    jurisdiction: str
    catalogue: Catalogue
    """The merged county catalogue; for a county without overrides, the city's own object."""
    overrides_version: int
    """The overrides version in force that day; 0: none (the city catalogue applies as it is)."""
    problem: str | None = None
    """Saved overrides that no longer pass the checks (e.g. the city raised a standard above
    them): the city catalogue applies, and this says why."""
    recorded_version: int = 0
    """The newest overrides version recorded (the ETag's version: a save names it in If-Match)."""


@dataclass
class _CountyHistory:
    """A county's saved overrides: the rows, their dated history, merged catalogues by version."""

    newest_id: int
    rows: dict[int, CatalogueOverrideVersion]
    history: CatalogueHistory
    merged: dict[tuple[int, int], EffectiveCatalogue] = field(default_factory=dict)
    """By (overrides version, the city version object's id: city versions live as long as the library)."""


def stated(row: CatalogueOverrideVersion) -> Stated:
    return Stated(row.version, row.valid_from, row.valid_to, tuple(row.corrects or ()))


def history_label(jurisdiction: str) -> str:
    return f"the catalogue overrides of {jurisdiction}"


class CatalogueLibrary:
    """The city catalogue packs, and the county catalogues built from them on demand.

    A county's saved overrides are dated versions (:mod:`eldercare.catalogues.history`); the
    catalogue of a day merges the version in force that day. Histories are cached per county
    by the id of its newest row (rows are never rewritten), so an evaluation costs one small
    query and no merge.
    """

    def __init__(
        self, cities: Mapping[str, CityCatalogues], interpretations: EldercareInterpretations
    ) -> None:
        self.cities = dict(cities)
        self.packs = {code: city.latest() for code, city in self.cities.items()}
        """The latest recorded version of each city's catalogue."""
        self.interpretations = interpretations
        self._histories: dict[str, _CountyHistory] = {}

    def versions_of(self, jurisdiction: str) -> CityCatalogues | None:
        """The versions of the city catalogue that covers ``jurisdiction`` (its own, or its city's)."""
        if jurisdiction not in registry():
            return None
        for code in registry().ancestors_and_self(jurisdiction):
            if code in self.cities:
                return self.cities[code]
        return None

    def city_of(self, jurisdiction: str) -> Catalogue | None:
        """The latest version of the pack that covers ``jurisdiction``."""
        versions = self.versions_of(jurisdiction)
        return None if versions is None else versions.latest()

    def require_city(self, jurisdiction: str) -> Catalogue:
        city = self.city_of(jurisdiction)
        if city is None:
            known = ", ".join(sorted(self.packs)) or "none"
            raise NotFound(f"No service catalogue covers jurisdiction {jurisdiction} (catalogues: {known}).")
        return city

    def require_city_on(self, jurisdiction: str, day: dt.date) -> Catalogue:
        """The version of the city catalogue in force on ``day``; NotFound naming the days the
        versions are in force when none is."""
        self.require_city(jurisdiction)
        versions = self.versions_of(jurisdiction)
        assert versions is not None
        found = versions.on(day)
        if found is None:
            ranges = "; ".join(
                f"version {number}: {describe(version.in_force)}"
                for number, version in versions.history.versions.items()
            )
            raise NotFound(f"No version of the catalogue of {versions.city} is in force on {day} ({ranges}).")
        return found

    async def effective(
        self, session: AsyncSession, jurisdiction: str, *, on: dt.date | None = None
    ) -> EffectiveCatalogue:
        """The catalogue of ``jurisdiction`` on ``on`` (default today); NotFound when no pack covers it."""
        return (await self.effective_many(session, [jurisdiction], on=on))[jurisdiction]

    async def effective_many(
        self, session: AsyncSession, jurisdictions: Sequence[str], *, on: dt.date | None = None
    ) -> dict[str, EffectiveCatalogue]:
        """The catalogues of several jurisdictions on ``on`` (default today), with one query for
        whether their saved overrides changed."""
        day = on or policy_today()
        cities = {code: self.require_city_on(code, day) for code in jurisdictions}
        histories = await self.histories(
            session, [code for code, city in cities.items() if code != city.jurisdiction]
        )
        result: dict[str, EffectiveCatalogue] = {}
        for code, city in cities.items():
            county = histories.get(code)
            result[code] = (
                EffectiveCatalogue(code, city, 0) if county is None else self._on(code, city, county, day)
            )
        return result

    async def histories(self, session: AsyncSession, counties: Sequence[str]) -> dict[str, _CountyHistory]:
        """The saved overrides of the counties that have any, from the cache when unchanged."""
        newest = await repository.newest_row_ids(session, counties) if counties else {}
        found: dict[str, _CountyHistory] = {}
        for code, row_id in newest.items():
            cached = self._histories.get(code)
            if cached is None or cached.newest_id != row_id:
                rows = await repository.versions(session, code)
                cached = _CountyHistory(
                    newest_id=row_id,
                    rows={row.version: row for row in rows},
                    history=CatalogueHistory.replay(history_label(code), [stated(row) for row in rows]),
                )
                self._histories[code] = cached
            found[code] = cached
        return found

    def _on(self, code: str, city: Catalogue, county: _CountyHistory, day: dt.date) -> EffectiveCatalogue:
        recorded = county.history.latest_number()
        version = county.history.in_force(day)
        if version is None:
            # without overrides in force a county shares the city's catalogue object itself, so
            # batch work (snapshots, discovery) sees one catalogue for all such counties
            return EffectiveCatalogue(code, city, 0, recorded_version=recorded)
        key = (version.number, id(city))
        built = county.merged.get(key)
        if built is None:
            built = county.merged[key] = self._build(code, city, county.rows[version.number])
        return replace(built, recorded_version=recorded)

    def _build(self, code: str, city: Catalogue, row: CatalogueOverrideVersion) -> EffectiveCatalogue:
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


DATING_FIELDS = frozenset({"valid_from", "valid_to", "correction"})


def _for_rules(data: CatalogueOverridesIn, jurisdiction: str) -> dict[str, Any]:
    body = data.model_dump(mode="json", exclude_none=True, exclude=set(DATING_FIELDS))
    return {"jurisdiction": jurisdiction, **body}


def _ranges(days: Sequence[Days]) -> list[dict[str, str | None]]:
    return [
        {
            "valid_from": d.start.isoformat() if d.start else None,
            "valid_to": d.end.isoformat() if d.end else None,
        }
        for d in days
    ]


async def save_overrides(
    *,
    write: WriteContext,
    library: CatalogueLibrary,
    jurisdiction: str,
    data: CatalogueOverridesIn,
) -> EffectiveCatalogue:
    """Check and save a county's overrides as a new dated version (nothing is overwritten).

    The version is valid from ``valid_from`` (default: ``effective_from``, else today) until
    ``valid_to`` (default open-ended). It may supersede only the open-ended version in force
    that started earlier; anything else that overlaps a recorded version is 409 naming it,
    unless ``correction`` names every version it corrects with a reason and a document
    reference (an audited correction: the old ranges stay readable).
    """
    session = write.session
    latest_city = library.require_city(jurisdiction)
    valid_from = data.valid_from or data.effective_from or policy_today()
    versions = library.versions_of(jurisdiction)
    # checked against the city version in force on its first day (else the latest)
    city = (versions.on(valid_from) if versions else None) or latest_city
    if jurisdiction == city.jurisdiction:
        raise InvalidInput.field(
            "path.jurisdiction",
            f"{jurisdiction} is the city: its catalogue is the policy pack; overrides are for its "
            "counties, districts and zones",
        )
    await repository.lock_jurisdiction(session, jurisdiction)
    rows = await repository.versions(session, jurisdiction)
    current = rows[-1] if rows else None
    # The catalogue exists before any override (the city's items): its ETag names version 0.
    require_if_match(write.if_match, jurisdiction, current.version if current else 0)
    overrides = parse_overrides(_for_rules(data, jurisdiction), location="body")
    merged = merge(city, overrides, library.interpretations, location="body")
    if data.valid_to is not None and data.valid_to < valid_from:
        raise InvalidInput.field("body.valid_to", f"must not be before valid_from ({valid_from.isoformat()})")
    number = (current.version if current else 0) + 1
    correction = data.correction
    corrects = tuple(sorted(set(correction.versions))) if correction else ()
    history = CatalogueHistory.replay(history_label(jurisdiction), [stated(row) for row in rows])
    before = {n: list(v.in_force) for n, v in history.versions.items()}
    try:
        recorded = history.record(Stated(number, valid_from, data.valid_to, corrects).version())
    except VersionCollision as exc:
        raise Conflict(exc.detail, extra={"collides_with": exc.collides_with}) from exc
    row = CatalogueOverrideVersion(
        jurisdiction=jurisdiction,
        version=number,
        valid_from=valid_from,
        valid_to=data.valid_to,
        corrects=list(corrects),
        correction_reason=correction.reason if correction else None,
        correction_reference=correction.document_reference if correction else None,
        body=overrides.model_dump(mode="json"),
        created_by=write.principal.actor,
    )
    await write.add(row, conflict=f"Version {number} of {history_label(jurisdiction)} was saved meanwhile.")
    dating = {
        "valid_from": valid_from.isoformat(),
        "valid_to": data.valid_to.isoformat() if data.valid_to else None,
    }
    after: dict[str, Any] = {"version": number, **dating, **row.body}
    if correction is not None:
        after["correction"] = {
            "versions": list(corrects),
            "reason": correction.reason,
            "document_reference": correction.document_reference,
            "in_force_before": {str(n): _ranges(before[n]) for n in corrects},
            "in_force_after": {str(n): _ranges(history.versions[n].in_force) for n in corrects},
        }
    elif recorded.supersedes is not None:
        after["supersedes"] = recorded.supersedes
    await write.record(
        action="correct" if correction else ("create" if current is None else "replace"),
        entity="catalogue_overrides",
        entity_id=jurisdiction,
        jurisdiction=jurisdiction,
        before=None
        if current is None
        else {"version": current.version, "valid_from": current.valid_from.isoformat(), **current.body},
        after=after,
        event=Event(
            type="catalogue.changed",
            subject=f"/catalogues/{jurisdiction}",
            jurisdiction=jurisdiction,
            data={"jurisdiction": jurisdiction, **after},
        ),
    )
    in_force_today = history.in_force(policy_today())
    effective = EffectiveCatalogue(jurisdiction, merged, number, recorded_version=number)
    if in_force_today is None or in_force_today.number != number:
        # saved for other days: answer what applies today, with the new version's ETag
        today = await library.effective(session, jurisdiction)
        return replace(today, recorded_version=number)
    return effective


@dataclass(frozen=True)
class OverrideVersionEntry:
    """A saved version with its place in the county's history."""

    row: CatalogueOverrideVersion
    version: NumberedVersion


async def override_versions(
    session: AsyncSession, *, library: CatalogueLibrary, jurisdiction: str
) -> list[OverrideVersionEntry]:
    """Every saved version of a county's overrides, newest first, with the days each is in force
    and what superseded or corrected what."""
    library.require_city(jurisdiction)
    county = (await library.histories(session, [jurisdiction])).get(jurisdiction)
    if county is None:
        return []
    return [
        OverrideVersionEntry(county.rows[number], county.history.versions[number])
        for number in sorted(county.rows, reverse=True)
    ]


@dataclass(frozen=True)
class CountyListStatus:
    jurisdiction: str
    name: str
    first_published_on: dt.date | None
    """The first day a county list of its own was in force (the earliest day of a saved version)."""


@dataclass(frozen=True)
class CountyListPublication:
    city: str
    on: dt.date
    deadline: CountyListDeadline
    counties: list[CountyListStatus]


async def county_list_publication(
    session: AsyncSession, *, library: CatalogueLibrary, jurisdiction: str, on: dt.date
) -> CountyListPublication:
    """Which counties of the city (its counties, districts and development zones: 「各县区政府
    （管委会）」) had published their own list by ``on``, against the deadline of 二（一）1."""
    city = library.require_city(jurisdiction)
    deadline = city.county_list_deadline
    if deadline is None:
        raise NotFound(f"The catalogue of {city.jurisdiction} sets no deadline for county lists.")
    place = registry().require(city.jurisdiction)
    counties = [jurisdiction] if jurisdiction != city.jurisdiction else list(place.children)
    histories = await library.histories(session, counties)
    statuses = []
    for code in counties:
        county = histories.get(code)
        starts = (
            [piece.start for v in county.history.versions.values() for piece in v.in_force if piece.start]
            if county
            else []
        )
        first = min(starts) if starts else None
        entry = registry().get(code)
        statuses.append(CountyListStatus(code, entry.name if entry else code, first))
    return CountyListPublication(city.jurisdiction, on, deadline, statuses)


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


def override_version_read(entry: OverrideVersionEntry) -> OverrideVersionRead:
    row, version = entry.row, entry.version
    return OverrideVersionRead(
        jurisdiction=row.jurisdiction,
        version=row.version,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        **version_history_read(
            version,
            corrects=row.corrects or (),
            correction_reason=row.correction_reason,
            correction_reference=row.correction_reference,
        ),
        body=row.body,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def county_list_publication_read(publication: CountyListPublication) -> CountyListPublicationRead:
    deadline = publication.deadline
    past = publication.on > deadline.due_by
    counties = []
    for status in publication.counties:
        first = status.first_published_on
        published = first is not None and first <= publication.on
        on_time: bool | None
        if first is not None and first <= deadline.due_by:
            on_time = True
        elif past or (first is not None and first > deadline.due_by):
            on_time = False
        else:
            on_time = None
        counties.append(
            CountyListRead(
                jurisdiction=status.jurisdiction,
                name=status.name,
                first_published_on=first if published else None,
                published=published,
                on_time=on_time,
            )
        )
    return CountyListPublicationRead(
        city=publication.city,
        on=publication.on,
        due_by=deadline.due_by,
        past_deadline=past,
        text=deadline.text,
        citation=CitationRead.model_validate(deadline.citation.model_dump()),
        counties=counties,
        without_list=[c.jurisdiction for c in counties if past and not c.published],
    )


def city_versions_read(versions: CityCatalogues) -> list[CityVersionRead]:
    """The versions of a city's catalogue, in the order they were recorded."""
    answer = []
    for number, version in versions.history.versions.items():
        catalogue = versions.versions[number]
        validity = stated_validity(catalogue)
        correction = catalogue.validity.correction if catalogue.validity else None
        answer.append(
            CityVersionRead(
                city=versions.city,
                version=number,
                label=catalogue.version,
                document=catalogue.source.document,
                valid_from=validity.valid_from,
                valid_to=validity.valid_to,
                **version_history_read(
                    version,
                    corrects=validity.corrects,
                    correction_reason=correction.reason if correction else None,
                    correction_reference=correction.document_reference if correction else None,
                ),
            )
        )
    return answer
