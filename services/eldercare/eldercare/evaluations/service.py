"""Evaluating a person: the county's catalogue, dibao from welfare, the engine.

Two ways in: the stateless evaluation takes the person's circumstances from the request
(its ``dibao`` too); the evaluation of a registered person takes them from the register, and
whether the person is in dibao (and tekun) from the projection of welfare's register, from the
welfare service asked live, or from the register's flag (setting ``dibao_status_source``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.pack import AmountRule, Catalogue
from eldercare.catalogues.service import CatalogueLibrary
from eldercare.evaluations.dibao import DibaoStandards, DibaoStatus, DibaoStatuses
from eldercare.evaluations.entitlements import Evaluation, EvaluationContext, evaluate
from eldercare.evaluations.profile import PersonProfile, check_profile_on, parse_profile
from eldercare.evaluations.schemas import PersonEvaluationRead, evaluation_fields
from eldercare.interpretations import EldercareInterpretations
from eldercare.projection import service as projection
from eldercare.register import repository as register
from eldercare.register.models import Person
from shared.citizen_ids import CitizenIdVault
from shared.errors import InvalidInput, NotFound
from shared.months import YearMonth

DibaoStatusSource = Literal["projection", "welfare", "register"]


def rule_uses_dibao_standard(rule: AmountRule) -> bool:
    if rule.dibao_multiple is not None:
        return True
    levels = rule.by_care_level
    return levels is not None and any(
        rule_uses_dibao_standard(getattr(levels, level)) for level in ("full", "semi", "self_care")
    )


def catalogue_uses_dibao_standard(catalogue: Catalogue) -> bool:
    return any(
        component.amount is not None and rule_uses_dibao_standard(component.amount)
        for item in catalogue.items.values()
        for component in item.components.values()
    )


def needs_dibao_standard(catalogue: Catalogue, evaluation: Evaluation) -> bool:
    """Whether an entitlement the person has is priced from the dibao standard (item 13)."""
    for entitlement in evaluation.entitlements:
        item = catalogue.items[entitlement.item]
        for part in entitlement.components:
            rule = item.components[part.key].amount
            if rule is not None and rule_uses_dibao_standard(rule):
                return True
    return False


async def evaluate_person(
    session: AsyncSession,
    *,
    library: CatalogueLibrary,
    standards: DibaoStandards,
    interpretations: EldercareInterpretations,
    jurisdiction: str,
    on: dt.date,
    profile: PersonProfile,
    authorization: str | None,
    jurisdiction_field: str = "body.jurisdiction",
) -> Evaluation:
    """The person's entitlements for the month of ``on`` under their county's catalogue.

    The welfare service is asked for the dibao standard only when an entitlement needs it;
    when it cannot give one, that entitlement is degraded with the reason, never an error.
    A place no catalogue covers is refused naming ``jurisdiction_field``.
    """
    check_profile_on(profile, on, location="body.person")
    try:
        catalogue = (await library.effective(session, jurisdiction, on=on)).catalogue
    except NotFound as exc:
        raise InvalidInput.field(jurisdiction_field, exc.detail) from exc
    evaluation = evaluate(catalogue, profile, on, EvaluationContext(), interpretations)
    if not needs_dibao_standard(catalogue, evaluation):
        return evaluation
    lookup = await standards.standard(jurisdiction, YearMonth.of(on), authorization)
    context = EvaluationContext(dibao_standard=lookup.amount, dibao_unavailable_reason=lookup.reason)
    return evaluate(catalogue, profile, on, context, interpretations)


@dataclass(frozen=True)
class DibaoStatusUsed:
    """The dibao status an evaluation of a registered person used, and where it came from."""

    value: bool
    source: DibaoStatusSource
    enrolment_id: str | None
    register_value: bool
    note: str
    degraded: str | None = None
    """Set when welfare should have decided and could not (the register's flag was used)."""
    tekun: str | None = None
    projected_tekun: bool = False
    """The projection decided tekun too (``tekun`` is then what the evaluation uses)."""
    freshness: projection.Freshness | None = None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def dibao_status_used(recorded: bool, answer: DibaoStatus | None, month: YearMonth) -> DibaoStatusUsed:
    """Decide dibao status from welfare's ``answer`` (None: welfare not asked, by the setting)
    and the register's ``recorded`` circumstance."""
    if answer is None:
        note = f"dibao: {_flag(recorded)} as the register records it (setting dibao_status_source: register)"
        return DibaoStatusUsed(recorded, "register", None, recorded, note)
    if answer.in_dibao is None:
        reason = answer.reason or "the welfare service did not answer"
        return DibaoStatusUsed(
            recorded,
            "register",
            None,
            recorded,
            f"dibao: {_flag(recorded)} as the register records it, because {reason}",
            degraded=f"dibao status from the register, not the welfare service: {reason}",
        )
    if answer.in_dibao:
        note = f"dibao: true from the welfare service (enrolment {answer.enrolment_id} in force in {month})"
    elif answer.known_to_welfare:
        note = f"dibao: false from the welfare service (no dibao enrolment in force in {month})"
    else:
        note = (
            "dibao: false from the welfare service (no person with this citizen ID number in the "
            "welfare register of your area)"
        )
    if recorded != answer.in_dibao:
        note += f"; the register records dibao: {_flag(recorded)}, the welfare service decides"
    return DibaoStatusUsed(answer.in_dibao, "welfare", answer.enrolment_id, recorded, note)


def projected_status_used(
    recorded: bool,
    recorded_tekun: str | None,
    found: projection.ProjectedStatus,
    fresh: projection.Freshness,
    month: YearMonth,
) -> DibaoStatusUsed:
    """Decide dibao (and tekun) from the projection of welfare's register; the register's flag
    for a person welfare does not know."""
    how_fresh = fresh.describe()
    if not found.known:
        note = (
            f"dibao: {_flag(recorded)} as the register records it: welfare does not know this person "
            f"({how_fresh})"
        )
        return DibaoStatusUsed(recorded, "register", None, recorded, note, freshness=fresh)
    if found.in_dibao:
        note = (
            f"dibao: true from the projection of welfare's register (enrolment {found.dibao_enrolment_id} "
            f"in force in {month}; {how_fresh})"
        )
    else:
        note = (
            "dibao: false from the projection of welfare's register (no dibao enrolment in force in "
            f"{month}; {how_fresh})"
        )
    if recorded != found.in_dibao:
        note += f"; the register records dibao: {_flag(recorded)}, welfare decides"
    tekun = found.tekun if found.in_tekun else None
    if found.in_tekun and tekun is None:
        tekun = recorded_tekun  # welfare has not recorded the arrangement: the register's
    return DibaoStatusUsed(
        found.in_dibao,
        "projection",
        found.dibao_enrolment_id,
        recorded,
        note,
        tekun=tekun,
        projected_tekun=True,
        freshness=fresh,
    )


@dataclass(frozen=True)
class PersonEvaluation:
    person: Person
    circumstances_from: dt.date
    dibao_status: DibaoStatusUsed
    evaluation: Evaluation

    def read(self) -> PersonEvaluationRead:
        """The answer: the evaluation with the person, and the dibao source in the trace of every
        item whose rule read dibao."""
        body = evaluation_fields(self.evaluation)
        for step in body["trace"]:
            if "dibao" in step.facts:
                step.notes.append(self.dibao_status.note)
        if self.dibao_status.degraded:
            body["degraded"].append(self.dibao_status.degraded)
        status = self.dibao_status
        return PersonEvaluationRead.model_validate(
            {
                **body,
                "jurisdiction": self.person.jurisdiction,
                "person_id": self.person.id,
                "citizen_id": self.person.citizen_id_masked,
                "circumstances_from": self.circumstances_from,
                "dibao_status": {
                    "value": status.value,
                    "source": status.source,
                    "enrolment_id": status.enrolment_id,
                    "register_value": status.register_value,
                    "note": status.note,
                    "tekun": status.tekun if status.projected_tekun else None,
                    "projection": status.freshness.as_dict() if status.freshness else None,
                },
            }
        )


async def evaluate_registered_person(
    session: AsyncSession,
    *,
    library: CatalogueLibrary,
    standards: DibaoStandards,
    statuses: DibaoStatuses,
    vault: CitizenIdVault,
    interpretations: EldercareInterpretations,
    dibao_status_source: DibaoStatusSource,
    person: Person,
    on: dt.date,
    authorization: str | None,
) -> PersonEvaluation:
    """A registered person's entitlements for the month of ``on``: the circumstances version in
    force that day, and dibao status as welfare has it.

    With ``dibao_status_source`` ``projection`` (the default) eldercare's projection of welfare's
    register decides dibao and tekun (with its arrangement) for a person welfare knows (matched
    by the citizen ID hash); the register's flags for a person it does not; the answer says how
    fresh the projection is. With ``welfare`` the person's citizen ID number is read from the
    vault and welfare's enrolment lookup is asked with the caller's identity; its answer
    decides; when welfare cannot answer, the register's recorded ``dibao`` is used and the
    evaluation lists that as degraded. Monthly snapshots and discovery read the projection under
    ``projection``, else the recorded circumstances.
    """
    if on < person.birth_date:
        raise InvalidInput.field("query.on", f"is before the birth date {person.birth_date.isoformat()}")
    if person.left_on is not None and on >= person.left_on:
        raise InvalidInput.field(
            "query.on", f"the person left the register on {person.left_on.isoformat()} ({person.left_reason})"
        )
    row = (await register.circumstances_in_force(session, [person.id], on)).get(person.id)
    if row is None:
        raise InvalidInput.field("query.on", f"no circumstances of the person are recorded in force on {on}")
    recorded = parse_profile(
        {
            "birth_date": person.birth_date,
            "sex": person.sex,
            **{name: getattr(row, name) for name in register.CIRCUMSTANCE_FIELDS},
        },
        location="circumstances",
    )
    answer: DibaoStatus | None = None
    if dibao_status_source == "projection":
        found = await projection.status(
            session, hashes=[person.citizen_id_hash], month=YearMonth.of(on).first_day
        )
        fresh = await projection.freshness(session)
        status = projected_status_used(recorded.dibao, recorded.tekun, found, fresh, YearMonth.of(on))
    else:
        if dibao_status_source == "welfare":
            number = vault.reveal(person.citizen_id_cipher, person.citizen_id_masked)
            if number == person.citizen_id_masked:
                answer = DibaoStatus(
                    None, reason="the citizen ID number cannot be read with the configured key"
                )
            else:
                answer = await statuses.status(number, on, authorization)
        status = dibao_status_used(recorded.dibao, answer, YearMonth.of(on))
    update: dict[str, object] = {"dibao": status.value}
    if status.projected_tekun:
        update["tekun"] = status.tekun
    evaluation = await evaluate_person(
        session,
        library=library,
        standards=standards,
        interpretations=interpretations,
        jurisdiction=person.jurisdiction,
        on=on,
        profile=recorded.model_copy(update=update),
        authorization=authorization,
        jurisdiction_field="path.person_id",
    )
    return PersonEvaluation(person, row.effective_from, status, evaluation)
