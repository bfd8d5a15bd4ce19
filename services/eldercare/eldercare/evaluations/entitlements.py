"""Evaluation (待遇测算): a person's entitlements under a catalogue for one month.

One engine reads every item's eligibility condition (see :mod:`eldercare.catalogues.pack`)
against the person's facts; no item has code of its own. For the month containing ``on``:

- age is in completed years (周岁) on ``on``; for an item that pays a monthly amount the
  age counts by the setting ``age_allowance_starts`` (次月起: the age at the end of the
  previous month, so a person turning 90 in March gets the 80–89 amount for March);
- a component's amount is a fixed minimum, a parameter, an age band (item 8), a multiple
  of the dibao standard (item 13: 1.3 ×), a fraction of the minimum wage (item 13: 1/3,
  1/6), or chosen by care level (item 13), whose level comes from the ability level;
- two alternatives (item 15 and item 18's nursing subsidy, 择高申领) are both shown, with
  which one is paid and why (setting ``nursing_subsidy_choice``);
- an amount that needs the dibao standard while the welfare service cannot give it, or a
  minimum wage nobody has supplied, is listed as ``None`` with a ``degraded`` note: the
  evaluation does not fail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from eldercare.catalogues.pack import (
    AdmissionGroup,
    AdmissionPriority,
    AgeAtLeast,
    AgeBand,
    AllOf,
    Alternative,
    AmountRule,
    AnyOf,
    AtLeast,
    Catalogue,
    CatalogueItem,
    Citation,
    Component,
    Condition,
    CountyAmendment,
    Equals,
    Fact,
    Not,
    OneOf,
)
from eldercare.evaluations.profile import PersonProfile, check_profile_on
from eldercare.interpretations import EldercareInterpretations
from shared.money import CENT, money_str, to_money
from shared.months import YearMonth, completed_years

DEFAULT_INTERPRETATIONS = EldercareInterpretations()


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """Figures the evaluation needs from outside the catalogue.

    ``dibao_standard`` (低保标准) comes from the welfare service for the person's
    jurisdiction; when it cannot be had, ``dibao_unavailable_reason`` says why (e.g.
    "welfare service timed out"). ``minimum_wage`` (最低工资标准), when given, takes the
    place of the catalogue's ``minimum_wage`` parameter.
    """

    dibao_standard: Decimal | None = None
    dibao_unavailable_reason: str | None = None
    minimum_wage: Decimal | None = None


@dataclass(slots=True)
class ComponentResult:
    key: str
    name: str
    amount: Decimal | None
    """The amount this component comes to, shown even when it is not paid."""
    period: str | None
    has_amount: bool
    """The catalogue gives this component an amount (it may still be unknown: degraded)."""
    paid: bool
    minimum: bool
    facts: Mapping[str, Any]
    explanation: str | None
    degraded: str | None


@dataclass(slots=True)
class ChoiceOption:
    item: int
    component: str
    name: str
    choice: str
    amount: Decimal | None
    paid: bool


@dataclass(slots=True)
class AlternativeChoice:
    """Which of two alternatives is paid (择高申领), with both amounts and the reason."""

    key: str
    name: str
    setting: str
    options: tuple[ChoiceOption, ...]
    reason: str
    citation: Citation


@dataclass(slots=True)
class AdmissionRank:
    """Where a person stands in the admission order of public care homes (二（三）15)."""

    rank: int | None
    """1 first; None: in none of the groups the order names."""
    setting: str
    """The Interpretation setting that ranked the groups, with its value."""
    group: str | None
    name: str | None
    of_ranks: int
    facts: Mapping[str, Any]
    note: str | None
    text: str
    citation: Citation


@dataclass(slots=True)
class Entitlement:
    item: int
    name: str
    service_type: str
    content: str
    amount: Decimal | None
    """Money payable under this item for ``period``; None for a service or an unknown amount."""
    period: str | None
    rule: Condition
    """The eligibility condition that matched."""
    facts: Mapping[str, Any]
    """The person's facts the matching conditions read."""
    components: tuple[ComponentResult, ...]
    priority: bool | None
    choice: AlternativeChoice | None
    degraded: str | None
    citation: Citation
    funding: str | None
    lead_department: str
    amended_by: CountyAmendment | None
    notes: tuple[str, ...] = ()
    """What the answer assumed or could not give (an unknown fact, an amount the sources omit)."""
    admission: AdmissionRank | None = None


@dataclass(slots=True)
class TraceStep:
    item: int
    name: str
    matched: bool
    facts: Mapping[str, Any]
    notes: tuple[str, ...]


@dataclass(slots=True)
class Evaluation:
    jurisdiction: str
    catalogue_version: str
    on: dt.date
    month: YearMonth
    age: int
    entitlements: tuple[Entitlement, ...]
    monthly_total: Decimal
    """Sum of the monthly money paid (known amounts only; see ``monthly_total_complete``)."""
    monthly_total_complete: bool
    degraded: tuple[str, ...]
    trace: tuple[TraceStep, ...]

    def entitlement(self, item: int) -> Entitlement | None:
        return next((e for e in self.entitlements if e.item == item), None)


# --- reading conditions -------------------------------------------------------------------


Outcome = tuple[bool, dict[str, Any]]
"""Whether a condition holds, and the facts that decided it."""
Explain = Callable[[Mapping[str, Any], int, EldercareInterpretations], Outcome]
Test = Callable[[Mapping[str, Any], int, EldercareInterpretations], bool]


class _Reader:
    """Reads conditions against one person's facts at one age."""

    __slots__ = ("age", "facts", "interpretations")

    def __init__(self, facts: Mapping[str, Any], age: int, interpretations: EldercareInterpretations) -> None:
        self.facts = facts
        self.age = age
        self.interpretations = interpretations

    def holds(self, condition: Condition) -> bool:
        """Whether the condition holds (fast: stops at the first deciding part)."""
        return _compiled(condition)[0](self.facts, self.age, self.interpretations)

    def check(self, condition: Condition) -> Outcome:
        """Whether the condition holds, and the facts that decided it.

        For ``all`` that holds and ``any`` that fails every part's facts count; for ``all``
        that fails, the failing parts'; for ``any`` that holds, the holding parts'.
        """
        return _compiled(condition)[1](self.facts, self.age, self.interpretations)


_COMPILED: dict[int, tuple[Condition, Test, Explain]] = {}
_COMPILED_LIMIT = 50_000


def _compiled(condition: Condition) -> tuple[Test, Explain]:
    """The condition as two functions, made once per condition object (they are immutable).

    Keyed by identity, not by value: hashing a nested condition on every call costs more
    than reading it. The entry keeps the condition alive so its id is never reused.
    """
    entry = _COMPILED.get(id(condition))
    if entry is not None and entry[0] is condition:
        return entry[1], entry[2]
    test, explain = _compile_test(condition), _compile_explain(condition)
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    _COMPILED[id(condition)] = (condition, test, explain)
    return test, explain


def _compile_test(condition: Condition) -> Test:
    match condition:
        case Fact(name):
            return lambda facts, age, settings: bool(facts[name])
        case AgeAtLeast(int() as years):
            return lambda facts, age, settings: age >= years
        case AgeAtLeast(str() as setting):
            return lambda facts, age, settings: age >= settings.named_age(setting)
        case Equals(name, expected):
            return lambda facts, age, settings: bool(facts[name] == expected)
        case OneOf(name, values):
            return lambda facts, age, settings: facts[name] in values
        case AtLeast(name, minimum):
            return lambda facts, age, settings: facts[name] is not None and facts[name] >= minimum
        case Not(inner):
            test_inner = _compile_test(inner)
            return lambda facts, age, settings: not test_inner(facts, age, settings)
        case AllOf(parts):
            tests = tuple(_compile_test(part) for part in parts)

            def every(facts: Mapping[str, Any], age: int, settings: EldercareInterpretations) -> bool:
                for test in tests:  # noqa: SIM110 - a plain loop: no generator per call
                    if not test(facts, age, settings):
                        return False
                return True

            return every
        case AnyOf(parts):
            tests = tuple(_compile_test(part) for part in parts)

            def some(facts: Mapping[str, Any], age: int, settings: EldercareInterpretations) -> bool:
                for test in tests:  # noqa: SIM110 - a plain loop: no generator per call
                    if test(facts, age, settings):
                        return True
                return False

            return some
    raise TypeError(condition)  # pragma: no cover - the union is exhaustive


def _compile_explain(condition: Condition) -> Explain:
    match condition:
        case Fact(name):
            return lambda facts, age, settings: (bool(facts[name]), {name: facts[name]})
        case AgeAtLeast(int() as years):
            return lambda facts, age, settings: (age >= years, {"age": age})
        case AgeAtLeast(str() as setting):
            return lambda facts, age, settings: (age >= settings.named_age(setting), {"age": age})
        case Equals(name, expected):
            return lambda facts, age, settings: (facts[name] == expected, {name: facts[name]})
        case OneOf(name, values):
            return lambda facts, age, settings: (facts[name] in values, {name: facts[name]})
        case AtLeast(name, minimum):
            return lambda facts, age, settings: (
                facts[name] is not None and facts[name] >= minimum,
                {name: facts[name]},
            )
        case Not(inner):
            explain_inner = _compile_explain(inner)

            def negation(facts: Mapping[str, Any], age: int, settings: EldercareInterpretations) -> Outcome:
                holds, used = explain_inner(facts, age, settings)
                return not holds, used

            return negation
        case AllOf(parts) | AnyOf(parts):
            explains = tuple(_compile_explain(part) for part in parts)
            every = isinstance(condition, AllOf)

            def combination(
                facts: Mapping[str, Any], age: int, settings: EldercareInterpretations
            ) -> Outcome:
                results = [explain(facts, age, settings) for explain in explains]
                holds = all(ok for ok, _ in results) if every else any(ok for ok, _ in results)
                # every part decided when all hold or none holds; else the failing (all) or
                # the holding (any) parts did
                everything = holds == every
                used: dict[str, Any] = {}
                for ok, part_used in results:
                    if everything or ok == holds:
                        used.update(part_used)
                return holds, used

            return combination
    raise TypeError(condition)  # pragma: no cover - the union is exhaustive


# --- amounts --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Amount:
    amount: Decimal | None
    explanation: str | None = None
    degraded: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


class _Pricer:
    """Finds component amounts for one person in one month."""

    def __init__(
        self,
        catalogue: Catalogue,
        profile: PersonProfile,
        context: EvaluationContext,
        interpretations: EldercareInterpretations,
    ) -> None:
        self.catalogue = catalogue
        self.profile = profile
        self.context = context
        self.interpretations = interpretations

    def derived(self, value: Decimal) -> Decimal:
        # 「不低于…1.3倍」「不低于…1/3」: a minimum, rounded by the Interpretation setting.
        rounding = ROUND_CEILING if self.interpretations.derived_minimum_rounding == "up" else ROUND_HALF_UP
        return value.quantize(CENT, rounding=rounding)

    def amount(self, rule: AmountRule, age: int) -> _Amount:
        if rule.fixed is not None:
            return _Amount(to_money(rule.fixed))
        if rule.parameter is not None:
            return self.parameter(rule.parameter)
        if rule.by_age is not None:
            return self.band(rule.by_age, age)
        if rule.dibao_multiple is not None:
            return self.dibao_multiple(rule.dibao_multiple)
        if rule.minimum_wage_fraction is not None:
            return self.minimum_wage_fraction(rule.fraction, rule.minimum_wage_fraction)
        assert rule.by_care_level is not None
        return self.care_level(rule, age)

    def parameter(self, name: str) -> _Amount:
        parameter = self.catalogue.parameters[name]
        if parameter.amount is None:
            return _Amount(None, degraded=f"{parameter.name} is not known: {parameter.note}")
        return _Amount(
            to_money(parameter.amount),
            explanation=f"{parameter.name} {money_str(parameter.amount)} ({parameter.source})",
        )

    def band(self, bands: list[AgeBand], age: int) -> _Amount:
        covering = [band for band in bands if band.covers(age)]
        if not covering:
            return _Amount(None, explanation=f"no band covers age {age}")
        # 「80—90岁、90—99岁」: an age written into two bands (90) is settled by the setting.
        upper = self.interpretations.longevity_band_overlap == "upper_band"
        band = covering[-1] if upper else covering[0]
        written = (
            f"{band.from_age}—{band.to_age_as_written}岁"
            if band.to_age_as_written is not None
            else f"{band.from_age}岁及以上"
        )
        note = f"age {age}: band {written}, {money_str(band.amount)}"
        if len(covering) > 1:
            setting = self.interpretations.longevity_band_overlap
            note += f" (age {age} is written into two bands; longevity_band_overlap={setting})"
        return _Amount(to_money(band.amount), explanation=note)

    def dibao_multiple(self, multiple: Decimal) -> _Amount:
        standard = self.context.dibao_standard
        if standard is None:
            reason = self.context.dibao_unavailable_reason or "the dibao standard was not supplied"
            return _Amount(None, degraded=f"dibao standard unavailable: {reason}")
        amount = self.derived(standard * multiple)
        return _Amount(
            amount,
            explanation=f"{multiple} × dibao standard {money_str(standard)} = {money_str(amount)}",
            facts={"dibao_standard": to_money(standard)},
        )

    def minimum_wage(self) -> tuple[Decimal | None, str]:
        if self.context.minimum_wage is not None:
            return self.context.minimum_wage, "evaluation context"
        parameter = self.catalogue.parameters.get("minimum_wage")
        if parameter is None or parameter.amount is None:
            note = parameter.note if parameter is not None and parameter.note else "not supplied"
            return None, note
        return parameter.amount, parameter.source or "catalogue"

    def minimum_wage_fraction(self, fraction: Fraction, written: str) -> _Amount:
        wage, source = self.minimum_wage()
        if wage is None:
            return _Amount(None, degraded=f"minimum wage of {self.catalogue.jurisdiction} unknown: {source}")
        amount = self.derived(wage * fraction.numerator / fraction.denominator)
        return _Amount(
            amount,
            explanation=f"{written} × minimum wage {money_str(wage)} ({source}) = {money_str(amount)}",
            facts={"minimum_wage": to_money(wage)},
        )

    def care_level(self, rule: AmountRule, age: int) -> _Amount:
        assert rule.by_care_level is not None
        level_of = self.interpretations.care_level_by_ability_level
        ability = self.profile.ability_level
        if ability is None:
            return _Amount(
                None,
                degraded="care level unknown: no ability assessment (ability_level)",
                facts={"ability_level": None},
            )
        level = level_of[ability]
        result = self.amount(getattr(rule.by_care_level, level), age)
        prefix = f"care level {level} (ability level {ability}, care_level_by_ability_level)"
        result.explanation = f"{prefix}: {result.explanation}" if result.explanation else prefix
        result.facts = {"ability_level": ability, "care_level": level, **result.facts}
        return result


# --- the evaluation -------------------------------------------------------------------------


@dataclass(slots=True)
class _Matched:
    """An item that matched, before alternatives are settled."""

    item: CatalogueItem
    facts: dict[str, Any]
    priority: bool | None
    components: list[_ComponentDraft]
    notes: list[str]
    choice: AlternativeChoice | None = None
    answer_notes: list[str] = field(default_factory=list)
    admission: AdmissionRank | None = None


@dataclass(slots=True)
class _ComponentDraft:
    component: Component
    price: _Amount | None
    facts: dict[str, Any]
    paid: bool = True


def allowance_counted_on(month: YearMonth, starts: str) -> dt.date:
    """The day whose age a monthly allowance counts for ``month``.

    ``next_month`` (次月起): the last day of the previous month, so the birthday month is
    still paid at the old age; ``birthday_month``: the last day of ``month``.
    """
    if starts == "next_month":
        return month.first_day - dt.timedelta(days=1)
    return month.last_day


def allowance_age(birth_date: dt.date, month: YearMonth, starts: str) -> int:
    """The age (周岁) a monthly allowance counts for ``month``."""
    return completed_years(birth_date, allowance_counted_on(month, starts))


def evaluate(
    catalogue: Catalogue,
    profile: PersonProfile,
    on: dt.date,
    context: EvaluationContext,
    interpretations: EldercareInterpretations | None = None,
    *,
    explain: bool = True,
) -> Evaluation:
    """Entitlements of ``profile`` under ``catalogue`` for the month containing ``on``.

    The trace lists every item with the facts that decided it. ``explain=False`` (a month's
    snapshots, which keep each entitlement's item, name, amount, period and degradation only)
    decides and prices every item alike but leaves out what explains it: no trace, no facts
    that decided a rule, no notes on ages, no admission rank.

    Raises InvalidInput naming ``person.birth_date`` when the person is born after ``on``.
    The result's dataclasses are plain values: read them, do not change them (they are not
    frozen only because frozen dataclasses are several times slower to build, and a batch
    evaluates the whole register).
    """
    settings = interpretations or DEFAULT_INTERPRETATIONS
    check_profile_on(profile, on)
    month = YearMonth.of(on)
    facts = profile.model_dump()
    age_on = completed_years(profile.birth_date, on)
    age_for_month = allowance_age(profile.birth_date, month, settings.age_allowance_starts)
    service_reader = _Reader(facts, age_on, settings)
    allowance_reader = _Reader(facts, age_for_month, settings)
    pricer = _Pricer(catalogue, profile, context, settings)

    matched: dict[int, _Matched] = {}
    trace: list[TraceStep] = []
    for number, item in catalogue.items.items():
        reader = allowance_reader if item.monthly_allowance else service_reader
        if not reader.holds(item.eligibility):
            if explain:
                _, used = reader.check(item.eligibility)
                notes = _age_notes(item, used, age_on, age_for_month, on, settings)
                trace.append(TraceStep(number, item.name, False, used, tuple(notes)))
            continue
        used, notes = {}, []
        if explain:
            _, used = reader.check(item.eligibility)
            notes = _age_notes(item, used, age_on, age_for_month, on, settings)
        draft = _match_item(item, reader, pricer, used, notes, explain=explain)
        matched[number] = draft

    for alternative in catalogue.alternatives:
        _settle(alternative, matched, settings)

    order = catalogue.admission_priority
    if order is not None and explain:
        for number in order.items:
            admitted = matched.get(number)
            if admitted is not None:
                rank = admission_rank(order, service_reader)
                admitted.admission = rank
                shown = f"rank {rank.rank} of {rank.of_ranks} ({rank.name})" if rank.rank else "no rank"
                shown += f"; {rank.setting}"
                admitted.notes.append(f"admission order of public care homes (二（三）15): {shown}")

    entitlements = []
    for number, draft in matched.items():
        entitlement = _entitlement(draft)
        entitlements.append(entitlement)
        if explain:
            trace.append(TraceStep(number, draft.item.name, True, entitlement.facts, tuple(draft.notes)))
    trace.sort(key=lambda step: step.item)

    monthly = [e for e in entitlements if e.period == "month"]
    degraded = tuple(f"item {e.item} {e.name}: {e.degraded}" for e in entitlements if e.degraded)
    return Evaluation(
        jurisdiction=catalogue.jurisdiction,
        catalogue_version=catalogue.version,
        on=on,
        month=month,
        age=age_on,
        entitlements=tuple(entitlements),
        monthly_total=to_money(sum((e.amount for e in monthly if e.amount is not None), Decimal(0))),
        monthly_total_complete=all(e.amount is not None for e in monthly),
        degraded=degraded,
        trace=tuple(trace),
    )


def _age_notes(
    item: CatalogueItem,
    used: Mapping[str, Any],
    age_on: int,
    age_for_month: int,
    on: dt.date,
    settings: EldercareInterpretations,
) -> list[str]:
    if not (item.monthly_allowance and "age" in used):
        return []
    month = YearMonth.of(on)
    counted_on = allowance_counted_on(month, settings.age_allowance_starts)
    return [
        f"monthly allowance: age {age_for_month} counts for {month}, the age on "
        f"{counted_on.isoformat()} (age_allowance_starts={settings.age_allowance_starts}); "
        f"age on {on.isoformat()}: {age_on}"
    ]


def _match_item(
    item: CatalogueItem,
    reader: _Reader,
    pricer: _Pricer,
    used: dict[str, Any],
    notes: list[str],
    *,
    explain: bool = True,
) -> _Matched:
    """The item's components and their amounts (``explain=False``: without the facts that
    decided its rules, see :func:`evaluate`)."""
    priority: bool | None = None
    facts = dict(used)
    if item.priority is not None:
        if explain:
            priority, priority_facts = reader.check(item.priority)
            facts.update(priority_facts)
        else:
            priority = reader.holds(item.priority)
        notes.append("priority group (现阶段重点保障)" if priority else "not in the priority group")
    answer_notes: list[str] = []
    for name, unknown in item.unknown_facts.items():
        if reader.facts.get(name) is None:
            facts[name] = None
            answer_notes.append(unknown.note)
    components: list[_ComponentDraft] = []
    for component in item.components.values():
        component_facts: dict[str, Any] = {}
        if component.eligibility is not None:
            if explain:
                holds, component_facts = reader.check(component.eligibility)
            else:
                holds = reader.holds(component.eligibility)
            if not holds:
                notes.append(f"{component.name}: not eligible")
                continue
        price = None
        if component.amount is not None:
            price = pricer.amount(component.amount, reader.age)
            component_facts.update(price.facts)
            if price.explanation:
                notes.append(f"{component.name}: {price.explanation}")
            if price.degraded:
                notes.append(f"{component.name}: {price.degraded}")
        elif component.period is not None and component.note:
            # money whose amount the catalogue does not give: say why
            answer_notes.append(f"{component.name}: {component.note}")
        facts.update(component_facts)
        components.append(_ComponentDraft(component, price, component_facts))
        if item.combine == "first_matching":
            break
    notes.extend(answer_notes)
    return _Matched(item, facts, priority, components, notes, answer_notes=answer_notes)


def admission_rank(order: AdmissionPriority, reader: _Reader) -> AdmissionRank:
    """The first group of the admission order whose condition holds (二（三）15); its rank by the
    setting ``admission_priority_order``."""
    as_listed = reader.interpretations.admission_priority_order == "as_listed"
    ranks = [index + 1 if as_listed else group.rank for index, group in enumerate(order.groups)]
    found: AdmissionGroup | None = None
    rank: int | None = None
    used: dict[str, Any] = {}
    for group, group_rank in zip(order.groups, ranks, strict=True):
        holds, group_facts = reader.check(group.eligibility)
        if holds:
            found, rank, used = group, group_rank, group_facts
            break
        used.update(group_facts)
    return AdmissionRank(
        rank=rank,
        setting=f"admission_priority_order={reader.interpretations.admission_priority_order}",
        group=found.key if found else None,
        name=found.name if found else None,
        of_ranks=max(ranks),
        facts=used,
        note=found.note if found else "in none of the groups the admission order names",
        text=order.text,
        citation=order.citation,
    )


def _settle(
    alternative: Alternative,
    matched: Mapping[int, _Matched],
    settings: EldercareInterpretations,
) -> None:
    """择高申领: when a person has both options, pay one and show both."""
    found: list[tuple[_Matched, _ComponentDraft]] = []
    for option in alternative.options:
        draft = matched.get(option.item)
        part = (
            next((c for c in draft.components if c.component.key == option.component), None)
            if draft
            else None
        )
        if draft is None or part is None:
            return
        found.append((draft, part))
    amounts = [part.price.amount if part.price else None for _, part in found]
    setting = getattr(settings, alternative.setting)
    if setting == "higher":
        if any(amount is None for amount in amounts):
            winner = None
            reason = "择高申领: an amount is unknown, so the higher cannot be chosen yet"
        else:
            known = [amount for amount in amounts if amount is not None]
            winner = known.index(max(known))  # equal amounts: the first option
            loser = 1 - winner
            relation = ">" if known[winner] > known[loser] else "="
            reason = (
                f"择高申领: {found[winner][1].component.name} {money_str(known[winner])} "
                f"{relation} {found[loser][1].component.name} {money_str(known[loser])}; "
                f"item {alternative.options[winner].item} is paid"
            )
    else:
        winner = next(i for i, option in enumerate(alternative.options) if option.choice == setting)
        reason = (
            f"{alternative.setting}={setting}: the person applied for "
            f"{found[winner][1].component.name}; item {alternative.options[winner].item} is paid"
        )
    options = []
    for index, ((_draft, part), option) in enumerate(zip(found, alternative.options, strict=True)):
        part.paid = winner is None or index == winner
        options.append(
            ChoiceOption(
                item=option.item,
                component=option.component,
                name=part.component.name,
                choice=option.choice,
                amount=amounts[index],
                paid=part.paid,
            )
        )
    choice = AlternativeChoice(
        key=alternative.key,
        name=alternative.name,
        setting=f"{alternative.setting}={setting}",
        options=tuple(options),
        reason=reason,
        citation=alternative.citation,
    )
    for draft, _ in found:
        draft.choice = choice
        draft.notes.append(reason)


def _entitlement(draft: _Matched) -> Entitlement:
    item = draft.item
    components = []
    money_parts = [part for part in draft.components if part.component.amount is not None]
    degraded_notes = []
    for part in draft.components:
        price = part.price
        if price is not None and price.degraded:
            degraded_notes.append(price.degraded)
        components.append(
            ComponentResult(
                key=part.component.key,
                name=part.component.name,
                amount=price.amount if price else None,
                period=part.component.period,
                has_amount=part.component.amount is not None,
                paid=part.paid,
                minimum=part.component.minimum,
                facts=part.facts,
                explanation=(price.explanation if price else None) or part.component.note,
                degraded=price.degraded if price else None,
            )
        )
    amount: Decimal | None = None
    period: str | None = None
    if money_parts:
        period = money_parts[0].component.period
        if all(part.price is not None and part.price.amount is not None for part in money_parts):
            amount = to_money(
                sum(
                    (
                        part.price.amount
                        for part in money_parts
                        if part.paid and part.price is not None and part.price.amount is not None
                    ),
                    Decimal(0),
                )
            )
    return Entitlement(
        item=item.number,
        name=item.name,
        service_type=item.service_type,
        content=item.content,
        amount=amount,
        period=period,
        rule=item.eligibility,
        facts=draft.facts,
        components=tuple(components),
        priority=draft.priority,
        choice=draft.choice,
        degraded="; ".join(degraded_notes) or None,
        citation=item.citation,
        funding=item.funding,
        lead_department=item.lead_department,
        amended_by=item.amended_by,
        notes=tuple(draft.answer_notes),
        admission=draft.admission,
    )
