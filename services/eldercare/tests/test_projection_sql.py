"""The SQL that reads dibao and tekun from the projection of welfare's register, person by
person: the correlated form discovery uses and the joined form of the monthly snapshots
agree, and each person gets their own enrolments, never another person's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, Date, String, column, literal, select, text, values
from sqlalchemy.ext.asyncio import create_async_engine

from eldercare.projection import service as projection
from eldercare.projection.models import WelfareEnrolment, WelfarePerson
from shared.settings import async_database_url

APRIL = dt.date(2024, 4, 1)
PREFIX = "projection-sql-test-"

# (citizen ID hash, tekun arrangement: None for none recorded, "" for no tekun enrolment,
# in a dibao household)
KNOWN = [
    (f"{PREFIX}scattered", "scattered", False),
    (f"{PREFIX}concentrated", "concentrated", True),
    (f"{PREFIX}no-arrangement", None, False),
    (f"{PREFIX}dibao-only", "", True),
]
UNKNOWN = f"{PREFIX}unknown-to-welfare"
EXPECTED = {
    # hash: (dibao, tekun) for a person whose register records dibao false and tekun "concentrated"
    f"{PREFIX}scattered": (False, "dispersed"),
    f"{PREFIX}concentrated": (True, "concentrated"),
    f"{PREFIX}no-arrangement": (False, "concentrated"),  # in tekun, arrangement from the register
    f"{PREFIX}dibao-only": (True, None),
    UNKNOWN: (False, "concentrated"),  # the register's own
}


def _rows() -> list[Any]:
    rows: list[Any] = []
    for citizen_id_hash, arrangement, dibao in KNOWN:
        person, household = uuid.uuid4(), uuid.uuid4()
        rows.append(
            WelfarePerson(
                person_id=person,
                jurisdiction="411702",
                household_id=household,
                citizen_id_hash=citizen_id_hash,
                version=1,
            )
        )
        if arrangement != "":
            rows.append(
                WelfareEnrolment(
                    enrolment_id=uuid.uuid4(),
                    program="tekun",
                    jurisdiction="411702",
                    person_id=person,
                    start_month=dt.date(2023, 1, 1),
                    status="active",
                    arrangement=arrangement,
                    version=1,
                )
            )
        if dibao:
            rows.append(
                WelfareEnrolment(
                    enrolment_id=uuid.uuid4(),
                    program="dibao",
                    jurisdiction="411702",
                    household_id=household,
                    start_month=dt.date(2023, 1, 1),
                    status="active",
                    version=1,
                )
            )
    return rows


async def test_each_person_gets_their_own_enrolments_in_both_forms(migrated_database: str) -> None:
    engine = create_async_engine(async_database_url(migrated_database))
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                for row in _rows():
                    table = type(row).__table__
                    await connection.execute(
                        table.insert().values(
                            {c.name: getattr(row, c.key) for c in table.columns if c.name != "created_at"}
                        )
                    )
                hashes = [*EXPECTED]
                persons = values(
                    column("citizen_id_hash", String),
                    column("dibao", Boolean),
                    column("tekun", String),
                    name="p",
                ).data([(h, False, "concentrated") for h in hashes])

                # discovery's form: correlated subqueries per person
                facts = projection.projected_facts(
                    {"dibao": persons.c.dibao, "tekun": persons.c.tekun},
                    persons.c.citizen_id_hash,
                    literal(APRIL, Date),
                )
                correlated = {
                    row.citizen_id_hash: (row.dibao, row.tekun)
                    for row in await connection.execute(
                        select(
                            persons.c.citizen_id_hash,
                            facts["dibao"].label("dibao"),
                            facts["tekun"].label("tekun"),
                        )
                    )
                }
                assert correlated == EXPECTED

                # the monthly snapshots' form: the projection joined as w
                dibao = projection.projected_fact("dibao", "r.dibao")
                tekun = projection.projected_fact("tekun", "r.tekun")
                joined_sql = f"""
                    SELECT p.citizen_id_hash, {dibao} AS dibao, {tekun} AS tekun
                    FROM unnest(CAST(:hashes AS text[])) AS p(citizen_id_hash)
                    CROSS JOIN LATERAL (SELECT false AS dibao, 'concentrated'::text AS tekun) r
                    {projection.projected_join("p", "CAST(:day AS date)")}
                """
                joined = {
                    row.citizen_id_hash: (row.dibao, row.tekun)
                    for row in await connection.execute(text(joined_sql), {"hashes": hashes, "day": APRIL})
                }
                assert joined == EXPECTED
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()
