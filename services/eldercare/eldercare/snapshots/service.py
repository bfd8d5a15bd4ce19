"""Monthly entitlement snapshots of the register, and what changed since the month before.

A snapshot of month M evaluates every person registered in the jurisdiction on M's first
day, with the circumstances in force that day (spec: "a monthly benefit for month M uses
the parameters in force on the first day of M"), under their county's catalogue. Persons
are read and written in batches (keyset order, one ``INSERT … SELECT FROM unnest`` per
batch); a person's snapshot of a month is stored once (idempotent per person and month).

The evaluation is a pure function of the catalogue, the circumstances its rules read and
the age *class* (which side of each age threshold and band edge the person is on), so
persons alike in those are evaluated once (see :class:`MonthEvaluator`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.pack import AllOf, AnyOf, AtLeast, Catalogue, Condition, Equals, Fact, Not, OneOf
from eldercare.catalogues.service import CatalogueBook
from eldercare.catalogues.sql import ages_in
from eldercare.db import audit_log, platform_tables
from eldercare.evaluations.dibao import DibaoStandards
from eldercare.evaluations.engine import EvaluationContext, allowance_age, evaluate
from eldercare.evaluations.profile import PersonProfile
from eldercare.evaluations.service import catalogue_uses_dibao_standard, needs_dibao_standard
from eldercare.interpretations import EldercareInterpretations
from eldercare.register.models import Person
from eldercare.register.repository import CIRCUMSTANCE_FIELDS
from eldercare.snapshots import repository
from eldercare.snapshots.models import SnapshotRun
from eldercare.snapshots.schemas import ItemChange, PersonChanges
from shared.audit import record_audit
from shared.auth import Principal
from shared.errors import InvalidInput, NotFound
from shared.jurisdictions import registry
from shared.money import money_str
from shared.months import YearMonth, completed_years
from shared.writes import Event, WriteContext

Evaluated = tuple[str, Decimal, bool, bool]
"""(entitlements JSON, monthly total, complete, degraded)"""


def age_thresholds(catalogue: Catalogue, interpretations: EldercareInterpretations) -> list[int]:
    """Every age at which some rule or amount of the catalogue can change, ascending."""
    ages: set[int] = set()
    for item in catalogue.items.values():
        ages |= ages_in(item.eligibility, interpretations)
        if item.priority is not None:
            ages |= ages_in(item.priority, interpretations)
        for component in item.components.values():
            if component.eligibility is not None:
                ages |= ages_in(component.eligibility, interpretations)
            if component.amount is not None and component.amount.by_age is not None:
                for band in component.amount.by_age:
                    ages.add(band.from_age)
                    if band.to_age_as_written is not None:
                        ages.add(band.to_age_as_written + 1)
    return sorted(ages)


def compact(evaluation: Any) -> Evaluated:
    entitlements = [
        {
            "item": e.item,
            "name": e.name,
            "amount": None if e.amount is None else money_str(e.amount),
            "period": e.period,
            "degraded": e.degraded,
        }
        for e in evaluation.entitlements
    ]
    return (
        json.dumps(entitlements, ensure_ascii=False, separators=(",", ":")),
        evaluation.monthly_total,
        evaluation.monthly_total_complete,
        bool(evaluation.degraded),
    )


def facts_read(catalogue: Catalogue) -> tuple[str, ...]:
    """The circumstances the catalogue's rules and amounts read (others cannot change a result)."""
    read: set[str] = set()

    def walk(condition: Condition | None) -> None:
        match condition:
            case Fact(name):
                read.add(name)
            case Equals(field, _) | OneOf(field, _) | AtLeast(field, _):
                read.add(field)
            case Not(inner):
                walk(inner)
            case AllOf(parts) | AnyOf(parts):
                for part in parts:
                    walk(part)

    for item in catalogue.items.values():
        walk(item.eligibility)
        walk(item.priority)
        for component in item.components.values():
            walk(component.eligibility)
            if component.amount is not None and component.amount.by_care_level is not None:
                read.add("ability_level")  # the care level of item 13
    return tuple(name for name in ("sex", *CIRCUMSTANCE_FIELDS) if name in read)


PERSON_COLUMNS: tuple[str, ...] = ("id", "jurisdiction", "birth_date", "sex", *CIRCUMSTANCE_FIELDS)
"""The columns of a row to snapshot, in the order :func:`repository.persons_to_snapshot` selects."""


@dataclass(frozen=True)
class _Shape:
    thresholds: list[int]
    key_of: Callable[[Any], Any]
    """Picks, from a row, the circumstances the catalogue reads."""


_DEPENDS_ON_CONTEXT: Evaluated = ("", Decimal(0), False, False)
"""Memo marker: this profile's result depends on the jurisdiction's dibao standard."""


class MonthEvaluator:
    """Evaluates persons for one month, once per distinct (catalogue, circumstances read, age class).

    The result depends on the person only through the circumstances the rules read and on
    which side of each age threshold and band edge the two ages (on the day, and for the
    monthly allowances) fall; and on the jurisdiction's dibao standard only when an
    entitlement is priced from it (item 13), where it is keyed by that standard too.
    """

    def __init__(
        self,
        month: YearMonth,
        catalogues: Mapping[str, Catalogue],
        contexts: Mapping[str, EvaluationContext],
        interpretations: EldercareInterpretations,
    ) -> None:
        self.day = month.first_day
        self.month = month
        self.catalogues = catalogues
        self.contexts = contexts
        self.interpretations = interpretations
        self.shapes: dict[int, _Shape] = {}
        self.ages: dict[tuple[int, dt.date], tuple[int, int]] = {}
        self.memo: dict[tuple[Any, ...], Evaluated] = {}
        self.by_context: dict[tuple[Any, ...], Evaluated] = {}
        self.evaluations = 0

    def _shape(self, catalogue: Catalogue) -> _Shape:
        shape = self.shapes.get(id(catalogue))
        if shape is None:
            read = facts_read(catalogue)
            shape = _Shape(
                age_thresholds(catalogue, self.interpretations),
                itemgetter(*(PERSON_COLUMNS.index(name) for name in read)) if read else (lambda row: ()),
            )
            self.shapes[id(catalogue)] = shape
        return shape

    def _age_classes(
        self, catalogue: Catalogue, thresholds: list[int], birth_date: dt.date
    ) -> tuple[int, int]:
        """Which side of each threshold the age on the day and the allowance age fall."""
        key = (id(catalogue), birth_date)
        found = self.ages.get(key)
        if found is None:
            age_on = completed_years(birth_date, self.day)
            age_for_month = allowance_age(birth_date, self.month, self.interpretations.age_allowance_starts)
            found = (bisect.bisect_right(thresholds, age_on), bisect.bisect_right(thresholds, age_for_month))
            self.ages[key] = found
        return found

    def evaluate(self, row: Sequence[Any]) -> Evaluated:
        jurisdiction = row[1]
        catalogue = self.catalogues[jurisdiction]
        shape = self.shapes.get(id(catalogue)) or self._shape(catalogue)
        key = (id(catalogue), shape.key_of(row), self._age_classes(catalogue, shape.thresholds, row[2]))
        found = self.memo.get(key)
        if found is not None and found is not _DEPENDS_ON_CONTEXT:
            return found
        context = self.contexts[jurisdiction]
        if found is _DEPENDS_ON_CONTEXT and (key, context) in self.by_context:
            return self.by_context[(key, context)]
        facts = {
            name: value for name, value in zip(PERSON_COLUMNS[2:], row[2:], strict=True) if value is not None
        }
        evaluation = evaluate(
            catalogue,
            PersonProfile.model_validate(facts),
            self.day,
            context,
            self.interpretations,
            trace_misses=False,
        )
        self.evaluations += 1
        result = compact(evaluation)
        if needs_dibao_standard(catalogue, evaluation):
            self.memo[key] = _DEPENDS_ON_CONTEXT
            self.by_context[(key, context)] = result
        else:
            self.memo[key] = result
        return result


async def take_snapshots(
    session: AsyncSession,
    *,
    book: CatalogueBook,
    standards: DibaoStandards,
    interpretations: EldercareInterpretations,
    principal: Principal,
    jurisdiction: str,
    month: YearMonth,
    authorization: str | None,
    batch_size: int,
) -> SnapshotRun:
    started = dt.datetime.now(dt.UTC)
    codes = [code for code in registry().subtree(jurisdiction) if book.city_of(code) is not None]
    if not codes:
        raise InvalidInput.field("body.jurisdiction", f"no service catalogue covers {jurisdiction}")
    day = month.first_day
    await repository.lock_month(session, day)
    effective = await book.effective_many(session, codes)
    catalogues = {code: found.catalogue for code, found in effective.items()}
    contexts: dict[str, EvaluationContext] = {}
    used: dict[str, Any] = {}
    for code, catalogue in catalogues.items():
        if not catalogue_uses_dibao_standard(catalogue):
            contexts[code] = EvaluationContext()
            continue
        lookup = await standards.standard(code, month, authorization)
        contexts[code] = EvaluationContext(
            dibao_standard=lookup.amount, dibao_unavailable_reason=lookup.reason
        )
        used[code] = {
            "dibao": None if lookup.amount is None else money_str(lookup.amount),
            "reason": lookup.reason,
        }
    before = await repository.count_snapshots(session, codes, day)
    run = SnapshotRun(
        jurisdiction=jurisdiction,
        month=day,
        requested_by=principal.actor,
        persons_created=0,
        persons_already_present=before,
        distinct_profiles=0,
        degraded=0,
        dibao_standards=used,
        started_at=started,
    )
    session.add(run)
    await session.flush()
    evaluator = MonthEvaluator(month, catalogues, contexts, interpretations)
    created = degraded = 0
    after: uuid.UUID | None = None
    while True:
        rows = await repository.persons_to_snapshot(session, codes, day, after, batch_size)
        if not rows:
            break
        batch = repository.SnapshotRows([], [], [], [], [], [], [])
        for row in rows:
            entitlements, total, complete, is_degraded = evaluator.evaluate(row)
            batch.person_ids.append(row[0])
            batch.jurisdictions.append(row[1])
            batch.catalogue_versions.append(catalogues[row[1]].version)
            batch.totals.append(total)
            batch.complete.append(complete)
            batch.degraded.append(is_degraded)
            batch.entitlements.append(entitlements)
            degraded += is_degraded
        created += await repository.insert_snapshots(session, run.id, day, batch)
        after = rows[-1][0]
    run.persons_created = created
    run.distinct_profiles = evaluator.evaluations
    run.degraded = degraded
    run.finished_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="snapshot_run",
        entity_id=str(run.id),
        jurisdiction=jurisdiction,
        after={"month": str(month), "persons_created": created, "persons_already_present": before},
    )
    write = WriteContext.for_job(
        session=session, principal=principal, tables=platform_tables, service="eldercare"
    )
    await write.emit(
        Event(
            type="snapshot.completed",
            subject=f"/snapshots?jurisdiction={jurisdiction}&month={month}",
            jurisdiction=jurisdiction,
            data={
                "snapshot_run_id": run.id,
                "jurisdiction": jurisdiction,
                "month": str(month),
                "persons_created": created,
                "persons_already_present": before,
                "degraded": degraded,
                "distinct_profiles": run.distinct_profiles,
            },
        )
    )
    return run


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def person_changes(row: Any, month: YearMonth) -> PersonChanges:
    return PersonChanges(
        person_id=row.person_id,
        name=row.name,
        citizen_id=row.citizen_id_masked,
        jurisdiction=row.jurisdiction,
        month=month,
        previous_month=month.plus(-1),
        previous_snapshot=row.previous_snapshot,
        monthly_total=row.monthly_total,
        previous_monthly_total=row.previous_monthly_total,
        changes=[
            ItemChange(
                item=change["item"],
                name=change["name"],
                change=change["change"],
                previous_amount=_money(change["previous_amount"]),
                amount=_money(change["amount"]),
                period=change["period"],
            )
            for change in row.changes
        ],
    )


async def changes_of_person(session: AsyncSession, *, person: Person, month: YearMonth) -> PersonChanges:
    rows, _ = await repository.changes(
        session, month=month.first_day, previous=month.plus(-1).first_day, person_id=person.id
    )
    if not rows:
        raise NotFound(
            f"No entitlement snapshot of {month} for this person; take the month's snapshots first "
            "(POST /api/eldercare/v1/snapshots)."
        )
    return person_changes(rows[0], month)
