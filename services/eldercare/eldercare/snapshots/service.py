"""Monthly entitlement snapshots of the register, and what changed since the month before.

A snapshot of month M evaluates every person registered in the jurisdiction on M's first
day, with the circumstances in force that day (spec: "a monthly benefit for month M uses
the parameters in force on the first day of M"), under their county's catalogue. A month
is a background job of the platform's one shape (``shared.jobs``, :class:`SnapshotRunner`):
one active run per overlapping area (409 naming it), under a lease, resumed by another
replica when that lease expires, never for a month that has not begun. A person's snapshot
of a month is stored once (idempotent per person and month).

The evaluation is a pure function of the catalogue, the circumstances its rules read and
the age *class* (which side of each age threshold and band edge the person is on), so
persons alike in those are evaluated once (see :class:`MonthEvaluator`): the database
groups the register by that key, Python evaluates each group, and the month is written
by ``INSERT … SELECT`` statements that give each person the profile of their key
(:mod:`eldercare.snapshots.repository`).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.pack import AllOf, AnyOf, AtLeast, Catalogue, Condition, Equals, Fact, Not, OneOf
from eldercare.catalogues.service import CatalogueLibrary
from eldercare.catalogues.sql import ages_in
from eldercare.db import platform_tables
from eldercare.evaluations.dibao import DibaoStandards
from eldercare.evaluations.entitlements import (
    EvaluationContext,
    allowance_age,
    allowance_counted_on,
    evaluate,
)
from eldercare.evaluations.profile import PersonProfile
from eldercare.evaluations.service import catalogue_uses_dibao_standard, needs_dibao_standard
from eldercare.interpretations import EldercareInterpretations
from eldercare.projection import service as projection
from eldercare.register.models import Person
from eldercare.register.repository import CIRCUMSTANCE_FIELDS
from eldercare.register.service import get_person
from eldercare.snapshots import repository
from eldercare.snapshots.models import EntitlementSnapshot, SnapshotRun
from eldercare.snapshots.schemas import ItemChange, PersonChanges
from shared.auth import Principal
from shared.db import Database
from shared.errors import InvalidInput, NotFound
from shared.jobs import JobKind, Lease, LeaseLost, Outcome, ServiceJobs, admit, job_error, settle_batch
from shared.jurisdictions import registry
from shared.money import money_str
from shared.months import YearMonth, completed_years, policy_today
from shared.pagination import PageParams
from shared.settings import JobSettings
from shared.writes import Event, WriteContext, is_collision

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
        self.results: dict[Evaluated, Evaluated] = {}
        """Each distinct result once: the memo's keys are many more than the results (at 1.5M
        persons ~15,700 evaluations, each ~1.6 kB of JSON), and alike ones share one copy."""
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

    def thresholds(self, catalogue: Catalogue) -> list[int]:
        return (self.shapes.get(id(catalogue)) or self._shape(catalogue)).thresholds

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
            explain=False,
        )
        self.evaluations += 1
        result = compact(evaluation)
        result = self.results.setdefault(result, result)
        if needs_dibao_standard(catalogue, evaluation):
            self.memo[key] = _DEPENDS_ON_CONTEXT
            self.by_context[(key, context)] = result
        else:
            self.memo[key] = result
        return result


SNAPSHOTS = JobKind(
    name="eldercare.snapshot",
    model=SnapshotRun,
    path="/api/eldercare/v1/snapshots/{id}",
    what="snapshot run",
)
YIELD_AFTER = 0.002
"""Seconds of evaluating between two yields to the event loop: the requests this process
serves meanwhile (single evaluations) wait at most about this long for it."""
LEFTOVER_ROUNDS = 3
"""Rounds for persons the batches left out (registered, or re-assessed, while the run wrote)."""


def scope_codes(library: CatalogueLibrary, jurisdiction: str) -> list[str]:
    codes = [code for code in registry().subtree(jurisdiction) if library.city_of(code) is not None]
    if not codes:
        raise InvalidInput.field("body.jurisdiction", f"no service catalogue covers {jurisdiction}")
    return codes


async def record_run(
    write: WriteContext,
    *,
    library: CatalogueLibrary,
    standards: DibaoStandards,
    jurisdiction: str,
    month: YearMonth,
    authorization: str | None,
) -> SnapshotRun:
    """Record a run (queued), refused with 409 while a run whose area overlaps is active.

    The dibao standards the month prices item 13 from are read here, with the caller's
    identity, and kept on the run: the run itself asks nobody and needs no token.
    """
    today = policy_today()
    if month.first_day > today:
        raise InvalidInput.field(
            "body.month",
            f"{month} has not begun (today is {today.isoformat()} in Asia/Shanghai); "
            "a month's snapshots are taken from its first day on",
        )
    session = write.session
    codes = scope_codes(library, jurisdiction)
    effective = await library.effective_many(session, codes, on=month.first_day)
    used: dict[str, Any] = {}
    for code, found in effective.items():
        if catalogue_uses_dibao_standard(found.catalogue):
            lookup = await standards.standard(code, month, authorization)
            used[code] = {
                "dibao": None if lookup.amount is None else money_str(lookup.amount),
                "reason": lookup.reason,
            }
    # from here to the commit, admissions of snapshot runs wait for this one (no call to
    # another service in between)
    await admit(session, SNAPSHOTS, jurisdiction=jurisdiction, queue=False)
    run = SnapshotRun(
        jurisdiction=jurisdiction,
        month=month.first_day,
        status="queued",
        requested_by=write.principal.actor,
        errors=[],
        total=0,
        done=0,
        attempts=0,
        persons_created=0,
        persons_already_present=0,
        distinct_profiles=0,
        degraded=0,
        dibao_standards=used,
        batches=0,
        completed_batches=[],
    )
    await write.add(run)
    await write.record(
        action="request",
        entity="snapshot_run",
        entity_id=run.id,
        jurisdiction=jurisdiction,
        after={"month": str(month), "dibao_standards": used},
        event=None,
    )
    return run


def profile_id(catalogue_version: str, result: Evaluated) -> uuid.UUID:
    """The id of an evaluated result: derived from its content, the same in every run."""
    entitlements, total, complete, degraded = result
    content = f"{catalogue_version}|{total}|{complete}|{degraded}|{entitlements}"
    return uuid.UUID(hashlib.md5(content.encode(), usedforsecurity=False).hexdigest())


def _context(stored: Mapping[str, Any] | None) -> EvaluationContext:
    if stored is None:
        return EvaluationContext()
    amount = stored.get("dibao")
    return EvaluationContext(
        dibao_standard=None if amount is None else Decimal(amount),
        dibao_unavailable_reason=stored.get("reason"),
    )


def completed_event(run: SnapshotRun) -> Event:
    """``snapshot.completed`` with the run's counts."""
    month = YearMonth.of(run.month)
    return Event(
        type="snapshot.completed",
        subject=f"/snapshots?jurisdiction={run.jurisdiction}&month={month}",
        jurisdiction=run.jurisdiction,
        data={
            "snapshot_run_id": run.id,
            "jurisdiction": run.jurisdiction,
            "month": str(month),
            "persons_created": run.persons_created,
            "persons_already_present": run.persons_already_present,
            "degraded": run.degraded,
            "distinct_profiles": run.distinct_profiles,
        },
    )


def jurisdiction_parts(codes: Sequence[str], parts: int) -> list[list[str]]:
    """``codes`` dealt into at most ``parts`` non-empty parts, in turn (a city's counties are
    spread over the parts). A month's groups are read part by part: persons of different
    jurisdictions rarely share a key (a catalogue pricing from the dibao standard keys by
    jurisdiction), so parts of the scope give few keys twice, where parts of the id space gave
    nearly every key once per part (at 1.5M persons 120,792 groups read for 57,407 keys)."""
    return [list(codes[start::parts]) for start in range(min(parts, len(codes)))]


async def _one_ahead(streams: Sequence[AsyncGenerator[Any, None]]) -> AsyncGenerator[Any, None]:
    """The rows of each stream in turn; while one is read, the next one's query already runs
    (its first row is asked for): the database computes the next part while this process
    evaluates the current one."""
    firsts: dict[int, asyncio.Future[Any]] = {}

    def start(index: int) -> None:
        if index < len(streams) and index not in firsts:
            firsts[index] = asyncio.ensure_future(anext(streams[index], None))

    try:
        for index, stream in enumerate(streams):
            start(index)
            start(index + 1)
            await asyncio.sleep(0)  # the next part's query goes out before this one is read
            row = await firsts[index]
            while row is not None:
                yield row
                row = await anext(stream, None)
    finally:
        for first in firsts.values():
            if not first.done():
                first.cancel()
        await asyncio.gather(*firsts.values(), return_exceptions=True)
        for stream in streams:
            await stream.aclose()


class SnapshotRunner(ServiceJobs):
    """Runs snapshot runs in this process under leases (``shared.jobs.ServiceJobs``).

    A run: (1) reads the groups of persons still to snapshot and evaluates each distinct
    profile once, storing the profiles and which key gets which; (2) writes the month in
    ``batches`` ranges of person ids, one ``INSERT … SELECT`` and one commit each, recorded
    on the run under its lease; (3) repeats for persons left over (registered or re-assessed
    meanwhile). A run taken over after a restart does (1) again for the persons without a
    snapshot and writes only the batches not recorded.
    """

    kind = SNAPSHOTS
    tables = platform_tables
    service = "eldercare"
    actor = "eldercare-snapshots"

    def __init__(
        self,
        database: Database,
        library: CatalogueLibrary,
        interpretations: EldercareInterpretations,
        *,
        batch_size: int,
        read_parts: int = 1,
        work_mem: str,
        jobs: JobSettings,
        owner: str,
        projected: bool = False,
    ) -> None:
        self.projected = projected
        """dibao and tekun from the projection of welfare's register (setting dibao_status_source)"""
        self.database = database
        self.library = library
        self.interpretations = interpretations
        self.batch_size = batch_size
        self.read_parts = read_parts
        """Parts of the scope (groups of its jurisdictions) read one after another (see
        :func:`_one_ahead` and :func:`jurisdiction_parts`)."""
        super().__init__(database, work_mem=work_mem, jobs=jobs, owner=owner)

    async def execute(self, lease: Lease) -> Outcome:
        async with self.database.sessions() as session:
            run = await repository.run(session, lease.job_id)
            if run is None:
                raise LeaseLost(str(lease.job_id))
            jurisdiction, day, stored = run.jurisdiction, run.month, dict(run.dibao_standards)
            batches, completed = run.batches, set(run.completed_batches)
            codes = scope_codes(self.library, jurisdiction)
            # the catalogues in force on the month's first day
            effective = await self.library.effective_many(session, codes, on=day)
        month = YearMonth.of(day)
        catalogues = {code: found.catalogue for code, found in effective.items()}
        contexts = {code: _context(stored.get(code)) for code in codes}
        evaluator = MonthEvaluator(month, catalogues, contexts, self.interpretations)
        key = self._month_key(evaluator, catalogues, month)
        first = batches == 0
        source = await self._dibao_status(lease, day)
        groups = await self._key_groups(lease, evaluator, key, codes, day, first=first, source=source)
        if first:
            batches = max(1, -(-groups // self.batch_size))
        async with self.database.sessions() as session:
            # nobody has a snapshot of the month yet: the batches need not look for one
            plain = not await repository.month_begun(session, day)
        for batch in range(batches):
            if batch not in completed:
                low, high = repository.id_range(batch, batches)
                await self._write(lease, key, codes, day, low, high, batch, skip_present=not plain)
        # persons registered or re-assessed while the batches were written: a few rounds more
        # (counted first: the grouping that evaluates them reads the whole scope again)
        async with self.database.sessions() as session:
            await self.limit(session)
            left = await repository.count_unwritten(session, codes, day)
        if left:
            left = await self._key_groups(lease, evaluator, key, codes, day, first=False, source=source)
        for _ in range(LEFTOVER_ROUNDS):
            if not left:
                break
            await self._write(lease, key, codes, day, None, None, None)
            left = await self._key_groups(lease, evaluator, key, codes, day, first=False, source=source)
        async with self.database.sessions() as session:
            await repository.drop_keys(session, lease.job_id)
            finished = await session.scalar(
                update(SnapshotRun)
                .where(lease.holds())
                .values(total=func.greatest(SnapshotRun.total, SnapshotRun.done))
                .returning(SnapshotRun)
            )
            await self.finish(session, lease, finished, completed_event)
        if left:
            return Outcome(
                status="partial",
                errors=[
                    job_error(
                        f"at least {left} persons were registered or re-assessed while the run wrote and "
                        "have no snapshot of the month yet (counted when the run last looked; persons "
                        "registered since are not in the figure); request the month again",
                        left_over=left,
                    )
                ],
            )
        return Outcome()

    async def failed(self, session: AsyncSession, lease: Lease) -> None:
        """A run failed after its last attempt: its keys and welfare's status it read go too."""
        await repository.drop_keys(session, lease.job_id)

    def _month_key(
        self, evaluator: MonthEvaluator, catalogues: Mapping[str, Catalogue], month: YearMonth
    ) -> repository.MonthKey:
        by_catalogue: dict[int, list[str]] = {}
        for code, catalogue in catalogues.items():
            by_catalogue.setdefault(id(catalogue), []).append(code)
        groups = []
        for codes in by_catalogue.values():
            catalogue = catalogues[codes[0]]
            groups.append(
                repository.KeyGroup(
                    jurisdictions=codes,
                    by_jurisdiction=catalogue_uses_dibao_standard(catalogue),
                    facts=facts_read(catalogue),
                    thresholds=evaluator.thresholds(catalogue),
                )
            )
        counted_on = allowance_counted_on(month, self.interpretations.age_allowance_starts)
        return repository.month_key(groups, month.first_day, counted_on, projected=self.projected)

    async def _dibao_status(self, lease: Lease, day: dt.date) -> dict[str, Any]:
        """Where this attempt reads dibao and tekun, and how fresh the projection is now; with
        the projection, welfare's status of the persons it knows is read once, here, for the
        whole attempt."""
        if not self.projected:
            return {"source": "register"}
        async with self.database.sessions() as session:
            await self.limit(session)
            fresh = (await projection.freshness(session)).as_dict()
            known = await repository.store_welfare_status(session, lease.job_id, day)
            await session.commit()
        return {"source": "projection", **fresh, "persons_known_to_welfare": known}

    async def _key_groups(
        self,
        lease: Lease,
        evaluator: MonthEvaluator,
        key: repository.MonthKey,
        codes: list[str],
        day: dt.date,
        *,
        first: bool,
        source: dict[str, Any],
    ) -> int:
        """Evaluate the groups of persons still to snapshot; store their profiles and keys.
        Returns how many persons they hold (0: nobody is left)."""
        async with self.database.sessions() as session:
            await self.limit(session)
            profiles = repository.ProfileRows([], [], [], [], [], [])
            keys: list[str] = []
            ids: list[uuid.UUID] = []
            stored: set[str] = set()
            profile_ids: dict[tuple[str, int], uuid.UUID] = {}
            persons = 0
            clock = time.perf_counter
            since = clock()
            # the scope is read in parts (groups of its jurisdictions), each grouped on a
            # connection of its own while the part before is evaluated here; a key found in
            # several parts (a catalogue whose results do not depend on the jurisdiction) is one
            streams = [
                self._part_groups(key, part, day, lease.job_id)
                for part in jurisdiction_parts(codes, self.read_parts)
            ]
            async with contextlib.aclosing(_one_ahead(streams)) as groups:  # parts closed even on an error
                async for group in groups:
                    if clock() - since > YIELD_AFTER:
                        await asyncio.sleep(0)  # let the requests this process serves go on meanwhile
                        since = clock()
                    persons += group.persons
                    if group.key in stored:
                        continue  # found in an earlier part
                    stored.add(group.key)
                    result = evaluator.evaluate((None, *group[1:-1]))
                    version = evaluator.catalogues[group.jurisdiction].version
                    found = profile_ids.get((version, id(result)))
                    if found is None:  # results are shared objects (MonthEvaluator.results): a new one
                        found = profile_ids[(version, id(result))] = profile_id(version, result)
                        profiles.ids.append(found)
                        profiles.catalogue_versions.append(version)
                        profiles.entitlements.append(result[0])
                        profiles.totals.append(result[1])
                        profiles.complete.append(result[2])
                        profiles.degraded.append(result[3])
                    keys.append(group.key)
                    ids.append(found)
            await repository.store_profiles(session, profiles)
            await repository.store_keys(session, lease.job_id, keys, ids)
            values: dict[str, Any] = {"distinct_profiles": evaluator.evaluations, "dibao_status": source}
            if first:
                values |= {
                    "total": persons,
                    "batches": max(1, -(-persons // self.batch_size)),
                    "persons_already_present": await repository.count_snapshots(session, codes, day),
                }
            held = (
                await session.execute(
                    update(SnapshotRun).where(lease.holds()).values(**values).returning(SnapshotRun.id)
                )
            ).first()
            if held is None:
                await session.rollback()
                raise LeaseLost(str(lease.job_id))
            await session.commit()
        return persons

    async def _part_groups(
        self, key: repository.MonthKey, codes: list[str], day: dt.date, run_id: uuid.UUID
    ) -> AsyncGenerator[Any, None]:
        """The groups of the persons of ``codes`` (a part of the scope), on a connection of
        its own (released when the part has been read)."""
        async with self.database.sessions() as session:
            await self.limit(session)
            async for group in repository.profile_groups(
                session, key=key, scope=codes, day=day, run_id=run_id
            ):
                yield group

    async def _write(
        self,
        lease: Lease,
        key: repository.MonthKey,
        codes: list[str],
        day: dt.date,
        low: uuid.UUID | None,
        high: uuid.UUID | None,
        batch: int | None,
        *,
        skip_present: bool = True,
    ) -> None:
        async with self.database.sessions() as session:
            await self.limit(session)
            try:
                counts = await repository.write_batch(
                    session,
                    run_id=lease.job_id,
                    key=key,
                    scope=codes,
                    day=day,
                    low=low,
                    high=high,
                    skip_present=skip_present,
                )
            except IntegrityError as error:
                if skip_present or not is_collision(error):
                    raise
                # a snapshot of the month was written meanwhile (another run): again, skipping it
                await session.rollback()
                await self._write(lease, key, codes, day, low, high, batch, skip_present=True)
                return
            # committed, or rolled back when the run is another replica's now or the batch was written
            recorded = await repository.record_batch(
                session, lease=lease, batch=batch, created=int(counts.created), degraded=int(counts.degraded)
            )
            await settle_batch(session, lease, recorded)


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


async def person_snapshots(
    session: AsyncSession, *, principal: Principal, person_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[EntitlementSnapshot], int]:
    """The snapshots of a person the caller may see (404 otherwise), newest first."""
    person = await get_person(session, principal=principal, person_id=person_id)
    return await repository.person_snapshots(session, person_id=person.id, page=page)
