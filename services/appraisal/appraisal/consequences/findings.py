"""Consequences of the appraisal (结果运用), computed for people to decide on. Pure rules:
no database, no HTTP.

For a published year: commendations (通报表扬), interviews (约谈) of the county leaders
or of the county food-safety office head, who is barred from awards (不得参加表彰评奖),
criticism for fraud (弄虚作假). Around the year: the rectification reports due one month
after publication (整改), the warning when the year's rules are not published by their
deadline, and the carry-back (Panjin art. 9, Zhumadian art. 12) of an incident early in
the next year to the year whose results are not yet published.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from appraisal.grading.points import points_text
from appraisal.grading.schemas import Grade
from appraisal.interpretations import AppraisalInterpretations, stated
from appraisal.schemes.pack import Interviewee, Scheme
from shared.errors import InvalidInput
from shared.months import YearMonth

Reason = Literal[
    "grade_a",
    "rank_improvement",
    "outstanding",
    "grade_d",
    "last_places",
    "rank_drop",
    "score_drop",
    "unresolved_rectification",
    "interviewed",
    "fraud",
    "report_missing",
    "report_late",
    "rules_not_published",
]


@dataclass(frozen=True)
class RankedResult:
    """One subject's published result: rank and grade are None for an unranked zone."""

    subject: str
    rank: int | None
    grade: Grade | None
    total: Decimal | None = None


@dataclass(frozen=True)
class Finding:
    """A subject that a rule points at, why, and the article; ``interpretations``: the
    settings the finding rests on (their values are in ``detail``); ``interviewees``: who
    is interviewed, for an interview."""

    subject: str
    reason: Reason
    detail: str
    citation: str
    interpretations: tuple[str, ...] = ()
    interviewees: tuple[Interviewee, ...] = ()


@dataclass(frozen=True)
class YearConsequences:
    commendations: tuple[Finding, ...] = ()
    leader_interviews: tuple[Finding, ...] = ()
    """约谈县区政府负责人 (Panjin art. 14 para. 1, Zhumadian art. 17 para. 1)."""
    office_head_interviews: tuple[Finding, ...] = ()
    """约谈县区食安办主要负责人 (Panjin art. 14 para. 2, Zhumadian art. 17 para. 3)."""
    barred_from_awards: tuple[Finding, ...] = ()
    criticisms: tuple[Finding, ...] = ()


def year_consequences(
    scheme: Scheme,
    *,
    year: int,
    results: Sequence[RankedResult],
    rank_history: Mapping[int, Mapping[str, int]],
    interpretations: AppraisalInterpretations,
    score_history: Mapping[int, Mapping[str, Decimal]] | None = None,
    unresolved_rectification: Collection[str] = (),
    outstanding: Collection[str] = (),
    circumstances: Mapping[str, Sequence[str]] | None = None,
) -> YearConsequences:
    """The lists of a published ``year``.

    ``rank_history`` holds the ranks of earlier years (year → subject → rank, ranked
    subjects only), ``score_history`` their published totals; ``unresolved_rectification``
    the subjects whose problems from the previous year are recorded as not rectified;
    ``outstanding`` the subjects people recorded as outstanding (成效突出);
    ``circumstances`` the downgrade and veto circumstance ids recorded against each subject
    this year. How large a rise or a drop must be, and how equal totals rank, are
    interpretations (settings); a finding that rests on one names it with its value.
    """
    ranks = {result.subject: result.rank for result in results if result.rank is not None}
    history: dict[int, Mapping[str, int]] = {**rank_history, year: ranks}
    previous = history.get(year - 1, {})
    previous_totals = (score_history or {}).get(year - 1, {})
    commendation_rule = scheme.commendations
    leaders_rule = scheme.interviews.leaders
    office_rule = scheme.interviews.office_head
    ties = _TieNote(interpretations)

    commendations: list[Finding] = []
    leaders: list[Finding] = []
    office_heads: list[Finding] = []
    for result in results:
        subject, rank = result.subject, result.rank
        if result.grade == commendation_rule.grade:
            commendations.append(
                Finding(subject, "grade_a", f"grade {result.grade}", commendation_rule.grade_citation)
            )
        if subject in outstanding:
            commendations.append(
                Finding(
                    subject,
                    "outstanding",
                    "results recorded as outstanding (成效突出)",
                    commendation_rule.outstanding_citation,
                )
            )
        if result.grade == leaders_rule.grade:
            leaders.append(
                Finding(
                    subject,
                    "grade_d",
                    f"grade {result.grade}",
                    leaders_rule.citation,
                    interviewees=tuple(leaders_rule.interviewees),
                )
            )
        run = range(year - leaders_rule.consecutive_years + 1, year + 1)
        if rank is not None and _last_places_running(subject, run, history, leaders_rule.last_places):
            tied = ties.note(subject, [history[each] for each in run])
            leaders.append(
                Finding(
                    subject,
                    "last_places",
                    f"in the last {leaders_rule.last_places} place(s) "
                    f"{leaders_rule.consecutive_years} years running ({run[0]}–{year})" + tied.detail,
                    leaders_rule.citation,
                    interpretations=tied.names,
                    interviewees=tuple(leaders_rule.interviewees),
                )
            )
        before = previous.get(subject)
        if rank is not None and before is not None:
            tied = ties.note(subject, [previous, ranks])
            rise = before - rank
            if commendation_rule.rank_improvement_citation is not None:
                places = interpretations.large_rank_rise_places.of(scheme.scheme)
                if rise >= places:
                    commendations.append(
                        Finding(
                            subject,
                            "rank_improvement",
                            f"rank {before} in {year - 1} → {rank} in {year} (up {rise}); a rise of "
                            f"{places} places or more is taken as large "
                            f"({stated('large_rank_rise_places', places)})" + tied.detail,
                            commendation_rule.rank_improvement_citation,
                            interpretations=("large_rank_rise_places", *tied.names),
                        )
                    )
            drop = office_rule.large_drop
            if drop is not None and drop.measure == "rank":
                places = interpretations.large_rank_drop_places.of(scheme.scheme)
                if -rise >= places:
                    office_heads.append(
                        Finding(
                            subject,
                            "rank_drop",
                            f"rank {before} in {year - 1} → {rank} in {year} (down {-rise}): "
                            f"「{drop.text}」, taken as {places} places or more "
                            f"({stated('large_rank_drop_places', places)})" + tied.detail,
                            drop.citation,
                            interpretations=("large_rank_drop_places", *tied.names),
                            interviewees=tuple(office_rule.interviewees),
                        )
                    )
        drop = office_rule.large_drop
        earlier_total = previous_totals.get(subject)
        if (
            drop is not None
            and drop.measure == "score"
            and rank is not None
            and result.total is not None
            and earlier_total is not None
        ):
            points = interpretations.large_score_drop_points.of(scheme.scheme)
            fall = earlier_total - result.total
            if fall >= points:
                limit = points_text(points)
                office_heads.append(
                    Finding(
                        subject,
                        "score_drop",
                        f"total {points_text(earlier_total)} in {year - 1} → {points_text(result.total)} "
                        f"in {year} (down {points_text(fall)}): 「{drop.text}」, taken as {limit} points "
                        f"or more ({stated('large_score_drop_points', limit)})",
                        drop.citation,
                        interpretations=("large_score_drop_points",),
                        interviewees=tuple(office_rule.interviewees),
                    )
                )
        if office_rule.unresolved_rectification and subject in unresolved_rectification:
            office_heads.append(
                Finding(
                    subject,
                    "unresolved_rectification",
                    f"problems found in the {year - 1} appraisal not rectified",
                    office_rule.citation,
                    interviewees=tuple(office_rule.interviewees),
                )
            )

    barred = _barred(scheme, leaders, office_heads)
    return YearConsequences(
        commendations=tuple(commendations),
        leader_interviews=tuple(leaders),
        office_head_interviews=tuple(office_heads),
        barred_from_awards=barred,
        criticisms=_criticisms(scheme, circumstances or {}),
    )


@dataclass(frozen=True)
class _Tied:
    detail: str = ""
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class _TieNote:
    """Where a finding reads a rank the subject shares with another (equal totals), it rests
    on the tie rule, which the sources do not have: say so, with the value used."""

    interpretations: AppraisalInterpretations

    def note(self, subject: str, rankings: Sequence[Mapping[str, int]]) -> _Tied:
        shared = any(
            subject in ranking and sum(1 for rank in ranking.values() if rank == ranking[subject]) > 1
            for ranking in rankings
        )
        if not shared:
            return _Tied()
        return _Tied(
            f"; a rank shared by equal totals ({stated('tie_rule', self.interpretations.tie_rule)})",
            ("tie_rule",),
        )


def in_last_places(subject: str, ranks: Mapping[str, int], places: int) -> bool:
    """Whether ``subject`` is among the last ``places`` places of a year's ranking: fewer than
    ``places`` subjects rank below it (so subjects tied for last place all count)."""
    rank = ranks.get(subject)
    if rank is None:
        return False
    below = sum(1 for other in ranks.values() if other > rank)
    return below < places


def _last_places_running(
    subject: str, years: range, history: Mapping[int, Mapping[str, int]], places: int
) -> bool:
    """考核排名连续N年列最后M名: every one of ``years`` has the subject ranked in its last
    ``places`` places; a year without a ranking breaks the run."""
    return all(in_last_places(subject, history.get(each, {}), places) for each in years)


def _barred(
    scheme: Scheme, leaders: Sequence[Finding], office_heads: Sequence[Finding]
) -> tuple[Finding, ...]:
    """被约谈的领导干部不得参加有关表彰、年度评奖: one entry per subject."""
    interviews = scheme.interviews
    reasons: dict[str, list[str]] = {}
    if interviews.leaders.bars_awards:
        for finding in leaders:
            reasons.setdefault(finding.subject, []).append(f"county leaders: {finding.detail}")
    if interviews.office_head.bars_awards:
        for finding in office_heads:
            reasons.setdefault(finding.subject, []).append(f"food-safety office head: {finding.detail}")
    return tuple(
        Finding(
            subject,
            "interviewed",
            "interviewed (" + "; ".join(why) + ")",
            interviews.barred_citation,
        )
        for subject, why in reasons.items()
    )


def _criticisms(scheme: Scheme, circumstances: Mapping[str, Sequence[str]]) -> tuple[Finding, ...]:
    findings = []
    for subject, recorded in circumstances.items():
        for circumstance_id in recorded:
            circumstance = scheme.circumstance(circumstance_id)
            if circumstance is None:
                raise InvalidInput.field(
                    f"circumstances.{subject}",
                    f"unknown circumstance {circumstance_id!r} in scheme {scheme.scheme}",
                )
            if circumstance.fraud:
                findings.append(
                    Finding(
                        subject,
                        "fraud",
                        circumstance.text,
                        f"{circumstance.citation}; {scheme.fraud.citation}",
                    )
                )
    return tuple(findings)


def rectification_deadline(scheme: Scheme, published_on: dt.date) -> dt.date:
    """The last day for the written rectification report: ``period_months`` after publication,
    the same day of the month (the month's last day when it has no such day)."""
    month = YearMonth.of(published_on).plus(scheme.rectification.period_months)
    return month.first_day.replace(day=min(published_on.day, month.last_day.day))


def rectification_findings(
    scheme: Scheme,
    *,
    published_on: dt.date,
    subjects: Sequence[str],
    reports: Mapping[str, dt.date],
    today: dt.date,
) -> tuple[Finding, ...]:
    """Subjects whose report is missing after the deadline (overdue), or came in late."""
    deadline = rectification_deadline(scheme, published_on)
    rule = scheme.rectification
    findings = []
    for subject in subjects:
        submitted = reports.get(subject)
        if submitted is None and today > deadline:
            findings.append(
                Finding(
                    subject,
                    "report_missing",
                    f"no rectification report; due by {deadline.isoformat()} "
                    f"(published {published_on.isoformat()})",
                    rule.citation,
                )
            )
        elif submitted is not None and submitted > deadline:
            findings.append(
                Finding(
                    subject,
                    "report_late",
                    f"report submitted {submitted.isoformat()}, due by {deadline.isoformat()}",
                    rule.citation,
                )
            )
    return tuple(findings)


def rules_publication_warnings(
    scheme: Scheme, *, year: int, published: Mapping[str, dt.date], today: dt.date
) -> tuple[Finding, ...]:
    """A warning for each of the year's documents (细则, 方案) whose deadline has passed with no
    publication recorded; ``published`` maps document id → publication date."""
    warnings = []
    for document in scheme.rules_publication:
        deadline = document.deadline_in(year)
        if today > deadline and document.document not in published:
            warnings.append(
                Finding(
                    scheme.city,
                    "rules_not_published",
                    f"{document.name} ({document.document}) for {year} was due by "
                    f"{deadline.isoformat()} and is not published",
                    document.citation,
                )
            )
    return tuple(warnings)


@dataclass(frozen=True)
class Attribution:
    """The appraisal year an incident counts against."""

    year: int
    carried_back: bool
    detail: str
    citation: str | None


def attribute_incident(
    scheme: Scheme, incident_on: dt.date, publications: Mapping[int, dt.date | None]
) -> Attribution:
    """The year an incident (食品安全事件) counts against.

    An incident in year Y + 1 before Y's results are published counts against Y (a
    deduction or downgrade there), not against Y + 1 (Panjin art. 9, Zhumadian art. 12).
    ``publications`` maps each appraisal year on record to its publication date (None while
    unpublished); an incident on the publication day itself is no longer "before" it.
    """
    own_year = incident_on.year
    rule = scheme.carry_back
    previous = own_year - 1
    if rule is not None and previous in publications:
        published_on = publications[previous]
        if published_on is None or incident_on < published_on:
            when = "not yet published" if published_on is None else (f"published {published_on.isoformat()}")
            return Attribution(
                previous,
                True,
                f"incident on {incident_on.isoformat()} before the {previous} results were "
                f"published ({when}): counts against {previous}",
                rule.citation,
            )
    return Attribution(
        own_year,
        False,
        f"incident on {incident_on.isoformat()} counts against {own_year}",
        None,
    )
