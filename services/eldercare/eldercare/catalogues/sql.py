"""Eligibility conditions as SQL, so set-based queries read the catalogue's own rules.

Discovery and the visit report run over the whole register in the database; they must
not re-state who is eligible in code of their own. :func:`condition_sql` turns a
catalogue condition into a SQL expression over a person's circumstance columns, with the
same meaning as the engine's reading: a missing circumstance (NULL, e.g. no version in
force) is false / null, so every leaf is two-valued and ``not`` means what it says.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, true

from eldercare.catalogues.pack import (
    AgeAtLeast,
    AllOf,
    AnyOf,
    AtLeast,
    Condition,
    Equals,
    Fact,
    Not,
    OneOf,
)
from eldercare.interpretations import EldercareInterpretations

Facts = Mapping[str, ColumnElement[Any]]
"""The column (or expression) of each circumstance a condition may name."""


def condition_sql(
    condition: Condition,
    facts: Facts,
    age: int | ColumnElement[int],
    interpretations: EldercareInterpretations,
) -> ColumnElement[bool]:
    """``condition`` as a SQL boolean expression; ``age`` is a number or an age expression."""
    match condition:
        case Fact(name):
            return func.coalesce(facts[name], false())
        case AgeAtLeast(years):
            minimum = years if isinstance(years, int) else interpretations.named_age(years)
            if isinstance(age, int):
                return true() if age >= minimum else false()
            return age >= minimum
        case Equals(name, value):
            return func.coalesce(facts[name] == value, false())
        case OneOf(name, values):
            return func.coalesce(facts[name].in_(sorted(values, key=str)), false())
        case AtLeast(name, value):
            return func.coalesce(facts[name] >= value, false())
        case Not(inner):
            return not_(condition_sql(inner, facts, age, interpretations))
        case AllOf(parts):
            return and_(*(condition_sql(part, facts, age, interpretations) for part in parts))
        case AnyOf(parts):
            return or_(*(condition_sql(part, facts, age, interpretations) for part in parts))
    raise TypeError(condition)  # pragma: no cover - the union is exhaustive


def _age_conditions(condition: Condition) -> Iterator[AgeAtLeast]:
    match condition:
        case AgeAtLeast():
            yield condition
        case Not(inner):
            yield from _age_conditions(inner)
        case AllOf(parts) | AnyOf(parts):
            for part in parts:
                yield from _age_conditions(part)


def ages_in(condition: Condition, interpretations: EldercareInterpretations) -> set[int]:
    """Every age threshold the condition reads (settings resolved)."""
    return {
        years if isinstance(years, int) else interpretations.named_age(years)
        for years in (part.years for part in _age_conditions(condition))
    }
