"""The "newly eligible" events, for the scheduler (:mod:`shared.events.scheduler`): each day,
the persons proactive discovery finds for that day (a birthday that opens an item or raises an
amount, circumstances in force from that day), one event per person, event and day. Data: ids,
the jurisdiction, the items with their change and date, the citation; no name and no citizen ID
number (a reader with the right scope asks the register)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.service import CatalogueLibrary
from eldercare.config import Settings
from eldercare.discoveries import service
from eldercare.discoveries.schemas import Discovery
from shared.events.scheduler import Check, Due
from shared.pagination import MAX_PAGE_SIZE, PageParams
from shared.writes import Event

PREFIX = "/api/eldercare/v1"
CITATION = "驻政办〔2023〕35号 二（一）3（主动发现）"


def newly_eligible(discovery: Discovery) -> Due:
    day = discovery.event_on.isoformat()
    return Due(
        key=f"eldercare:person.newly_eligible:{discovery.person_id}:{discovery.event}:{day}",
        event=Event(
            type="person.newly_eligible",
            subject=f"{PREFIX}/persons/{discovery.person_id}",
            jurisdiction=discovery.jurisdiction,
            data={
                "person": str(discovery.person_id),
                "event": discovery.event,
                "event_on": day,
                "reason": discovery.reason if discovery.event == "birthday" else "circumstances changed",
                "items": [
                    {
                        "item": item.item,
                        "name": item.name,
                        "change": item.change,
                        "eligible_from": item.eligible_from.isoformat(),
                    }
                    for item in discovery.items
                ],
                "evaluation": f"{PREFIX}/persons/{discovery.person_id}/evaluation",
                "citation": CITATION,
            },
        ),
    )


def scheduled_checks(app: FastAPI) -> Sequence[Check]:
    """Discovery of the day over every city the catalogues cover (``app.state.catalogue_library``,
    set at start-up: a round before it finds nothing and the next one catches up on its day)."""

    async def discoveries(session: AsyncSession, today: dt.date) -> list[Due]:
        library: CatalogueLibrary | None = getattr(app.state, "catalogue_library", None)
        if library is None:
            return []
        settings: Settings = app.state.settings
        dues = []
        for city in sorted(library.cities):
            offset = 0
            while True:
                found, total = await service.find(
                    session,
                    library=library,
                    settings=settings.interpretations,
                    jurisdiction=city,
                    start=today,
                    end=today,
                    page=PageParams(limit=MAX_PAGE_SIZE, offset=offset),
                    projected=settings.dibao_status_source == "projection",
                )
                dues += [newly_eligible(discovery) for discovery in found]
                offset += len(found)
                if not found or offset >= total:
                    break
        return dues

    return [discoveries]
