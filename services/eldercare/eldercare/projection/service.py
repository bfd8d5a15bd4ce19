"""Reading the projection of welfare's register: a person's dibao and tekun status in a month,
how fresh the projection is, and the SQL the monthly snapshots and discovery join.

A person is matched by the keyed hash of their citizen ID number (eldercare's lookup key). As
in welfare's own enrolment lookup, a person is in dibao in a month when their household's dibao
enrolment is active and in force in it, and in tekun when their own tekun enrolment is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, exists, func, null, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.projection.consumer import FEED
from eldercare.projection.models import WelfareEnrolment, WelfareFeed, WelfarePerson

TEKUN_ARRANGEMENTS = {"scattered": "dispersed", "concentrated": "concentrated"}
"""Welfare's 分散供养 / 集中供养 in eldercare's words."""


@dataclass(frozen=True)
class Freshness:
    """How fresh the projection is: the last event consumed and when it was last current."""

    last_event_id: str | None
    last_event_time: dt.datetime | None
    last_sequence: str | None
    current_as_of: dt.datetime | None
    lag_seconds: float | None
    events_applied: int
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "last_event_id": self.last_event_id,
            "last_event_time": self.last_event_time.isoformat() if self.last_event_time else None,
            "last_sequence": self.last_sequence,
            "current_as_of": self.current_as_of.isoformat() if self.current_as_of else None,
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
            "events_applied": self.events_applied,
            "last_error": self.last_error,
        }

    def describe(self) -> str:
        if self.current_as_of is None:
            return "the projection of welfare's register has not caught up with welfare's events yet"
        return (
            f"welfare's events up to {self.last_sequence or 'the start'}, current as of "
            f"{self.current_as_of.isoformat(timespec='seconds')} (lag {self.lag_seconds or 0:.0f} s)"
        )


async def freshness(session: AsyncSession) -> Freshness:
    row = await session.get(WelfareFeed, FEED)
    now = await session.scalar(text("SELECT now()"))
    if row is None:
        return Freshness(None, None, None, None, None, 0, None)
    lag = (now - row.caught_up_at).total_seconds() if row.caught_up_at is not None else None
    return Freshness(
        str(row.last_event_id) if row.last_event_id else None,
        row.last_event_time,
        row.last_sequence,
        row.caught_up_at,
        max(0.0, lag) if lag is not None else None,
        row.events_applied,
        row.last_error,
    )


@dataclass(frozen=True)
class ProjectedStatus:
    """A person as the projection has them in a month (``known``: welfare registered them)."""

    known: bool
    in_dibao: bool = False
    dibao_enrolment_id: str | None = None
    in_tekun: bool = False
    tekun: str | None = None
    """``dispersed`` / ``concentrated``; None when not in tekun or the arrangement was not recorded"""
    tekun_enrolment_id: str | None = None


_STATUS = text(
    """
    SELECT wp.person_id, e.enrolment_id, e.program, e.arrangement
    FROM eldercare.welfare_persons wp
    LEFT JOIN eldercare.welfare_enrolments e
           ON e.status = 'active' AND e.start_month <= :month
          AND (e.end_month IS NULL OR e.end_month >= :month)
          AND ((e.program = 'dibao' AND e.household_id = wp.household_id)
               OR (e.program = 'tekun' AND e.person_id = wp.person_id))
    WHERE wp.citizen_id_hash = ANY(CAST(:hashes AS text[]))
    ORDER BY e.program, e.start_month, e.enrolment_id
    """
)


async def status(session: AsyncSession, *, hashes: list[str], month: dt.date) -> ProjectedStatus:
    rows = list(await session.execute(_STATUS, {"hashes": hashes, "month": month}))
    if not rows:
        return ProjectedStatus(known=False)
    dibao = next((r for r in rows if r.program == "dibao"), None)
    tekun = next((r for r in rows if r.program == "tekun"), None)
    return ProjectedStatus(
        known=True,
        in_dibao=dibao is not None,
        dibao_enrolment_id=str(dibao.enrolment_id) if dibao is not None else None,
        in_tekun=tekun is not None,
        tekun=TEKUN_ARRANGEMENTS.get(tekun.arrangement or "") if tekun is not None else None,
        tekun_enrolment_id=str(tekun.enrolment_id) if tekun is not None else None,
    )


def projected_join(person: str, month: str) -> str:
    """A subquery (alias ``w``) with ``person``'s status in the projection in the month whose
    first day is ``month`` (SQL): ``w.known``, ``w.dibao``, ``w.tekun_in`` and ``w.tekun``
    (eldercare's words); NULLs for a person welfare does not know.

    Set-based: the projection is summed up once per citizen ID hash and hash-joined to the
    register, not probed once per person (a correlated probe cost about 2 µs a person, most of
    a second per 250,000 persons even when welfare knows none of them)."""
    return f"""
    LEFT JOIN ({welfare_status(month)}) w ON w.citizen_id_hash = {person}.citizen_id_hash
    """


def welfare_status(month: str) -> str:
    """One row per citizen ID hash welfare knows: ``known`` (true), ``dibao``, ``tekun_in`` and
    ``tekun`` (eldercare's words for the care arrangement) in the month whose first day is
    ``month`` (SQL)."""
    return f"""
        SELECT wp.citizen_id_hash,
               true AS known,
               coalesce(bool_or(e.program = 'dibao'), false) AS dibao,
               coalesce(bool_or(e.program = 'tekun'), false) AS tekun_in,
               min(CASE e.arrangement WHEN 'scattered' THEN 'dispersed'
                                      WHEN 'concentrated' THEN 'concentrated' END) AS tekun
        FROM eldercare.welfare_persons wp
        LEFT JOIN eldercare.welfare_enrolments e
               ON e.status = 'active' AND e.start_month <= {month}
              AND (e.end_month IS NULL OR e.end_month >= {month})
              AND ((e.program = 'dibao' AND e.household_id = wp.household_id)
                   OR (e.program = 'tekun' AND e.person_id = wp.person_id))
        GROUP BY wp.citizen_id_hash
    """


def projected_fact(name: str, recorded: str) -> str | None:
    """The SQL of fact ``name`` read from the projection joined as ``w`` (``recorded``: the
    register's column, used for persons welfare does not know); None for facts welfare does not
    decide."""
    if name == "dibao":
        return f"(CASE WHEN w.known THEN w.dibao ELSE {recorded} END)"
    if name == "tekun":
        # in tekun without a recorded arrangement: the register's arrangement
        return (
            f"(CASE WHEN w.known THEN (CASE WHEN w.tekun_in THEN coalesce(w.tekun, {recorded}) END) "
            f"ELSE {recorded} END)"
        )
    return None


def projected_facts(
    facts: dict[str, ColumnElement[Any]], citizen_id_hash: Any, day: Any
) -> dict[str, ColumnElement[Any]]:
    """``facts`` (SQLAlchemy, as :func:`eldercare.register.repository.facts_of` gives them) with
    dibao and tekun from the projection in ``day``'s month, for a person whose citizen ID hash is
    ``citizen_id_hash`` (the register's facts for persons welfare does not know). Correlated
    subqueries: for queries over a few rows per person (discovery), not a whole month."""
    month = cast(func.date_trunc("month", day), Date)
    known = exists().where(WelfarePerson.citizen_id_hash == citizen_id_hash)

    def in_force(program: str, column: Any = WelfareEnrolment.arrangement) -> Any:
        beneficiary = (
            WelfareEnrolment.household_id == WelfarePerson.household_id
            if program == "dibao"
            else WelfareEnrolment.person_id == WelfarePerson.person_id
        )
        return (
            select(column)
            .select_from(WelfareEnrolment)
            .join(WelfarePerson, beneficiary)
            .where(
                WelfarePerson.citizen_id_hash == citizen_id_hash,
                WelfareEnrolment.program == program,
                WelfareEnrolment.status == "active",
                WelfareEnrolment.start_month <= month,
                or_(WelfareEnrolment.end_month.is_(None), WelfareEnrolment.end_month >= month),
            )
        )

    # a scalar subquery of its own, correlated to the person (a subquery in FROM cannot be: it
    # took the person's table into its own FROM and read every person's tekun enrolments)
    arrangement = in_force(
        "tekun",
        func.min(
            case(
                (WelfareEnrolment.arrangement == "scattered", "dispersed"),
                (WelfareEnrolment.arrangement == "concentrated", "concentrated"),
            )
        ),
    ).scalar_subquery()
    projected = dict(facts)
    projected["dibao"] = case((known, exists(in_force("dibao"))), else_=facts["dibao"])
    projected["tekun"] = case(
        (
            known,
            case((exists(in_force("tekun")), func.coalesce(arrangement, facts["tekun"])), else_=null()),
        ),
        else_=facts["tekun"],
    )
    return projected
