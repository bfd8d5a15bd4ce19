"""Who may see and do what in an appraisal year.

- City staff: a principal whose jurisdiction covers the year's city and who speaks for no
  unit. They run the procedure (subjects, indicators, reviews, evaluation, publication).
- A member department (成员单位): a principal whose ``units`` name the department. It scores
  the indicators it is responsible for and sees only its own score entries and opinions.
- A subject itself: the county or zone government (a principal whose jurisdictions are the
  county's code, not the city's) or the member department that is itself appraised. It
  writes its own self-evaluation and rectification report and sees only its own records.

Records outside a caller's scope answer 404, never revealing that they exist.
"""

from __future__ import annotations

from appraisal.years.models import AppraisalYear, Subject
from shared.auth import Principal
from shared.errors import Forbidden, NotFound
from shared.jurisdictions import registry


def sees_year(principal: Principal, year: AppraisalYear) -> bool:
    """The year's city lies in the caller's subtree, or the caller works inside that city."""
    if principal.sees_everything:
        return True
    codes = registry()
    return any(
        own in codes and (codes.contains(year.city, own) or codes.contains(own, year.city))
        for own in principal.jurisdictions
    )


def is_city_staff_of(principal: Principal, city: str) -> bool:
    return principal.can_access(city) and not principal.units


def is_city_staff(principal: Principal, year: AppraisalYear) -> bool:
    return is_city_staff_of(principal, year.city)


def is_department_user(principal: Principal, year: AppraisalYear) -> bool:
    return bool(principal.units) and principal.can_access(year.city)


def is_department_subject(subject: Subject, year: AppraisalYear) -> bool:
    """A member department is appraised at the city's level (it has no jurisdiction of its own)."""
    return subject.jurisdiction == year.city


def is_subject_itself(principal: Principal, year: AppraisalYear, subject: Subject) -> bool:
    if is_department_subject(subject, year):
        return subject.name in principal.units
    return principal.can_access(subject.jurisdiction) and not principal.can_access(year.city)


def sees_subject(principal: Principal, year: AppraisalYear, subject: Subject) -> bool:
    return (
        is_city_staff(principal, year)
        or is_department_user(principal, year)
        or is_subject_itself(principal, year, subject)
    )


def require_city_staff(principal: Principal, year: AppraisalYear, what: str) -> None:
    if not is_city_staff(principal, year):
        raise Forbidden(f"{what} is done by the city's appraisal office (staff of {year.city}).")


def require_subject_visible(principal: Principal, year: AppraisalYear, subject: Subject) -> None:
    if not sees_subject(principal, year, subject):
        raise NotFound(f"No subject {subject.code} in {year.scheme} {year.year}.")


def require_own_record(principal: Principal, year: AppraisalYear, subject: Subject, what: str) -> None:
    """The county's (or appraised department's) own records: the subject itself writes them;
    a principal with appraisal:admin may act for it. Others who may see the subject get 403,
    the rest 404."""
    if is_subject_itself(principal, year, subject):
        return
    if principal.has_scope("appraisal:admin") and principal.can_access(subject.jurisdiction):
        return
    require_subject_visible(principal, year, subject)
    raise Forbidden(f"{what} is written by {subject.name} itself.")


def reads_own_records(principal: Principal, year: AppraisalYear, subject: Subject) -> bool:
    """Self-evaluations, evidence and rectification reports: the subject itself, city staff,
    and member departments (who review the self-evaluations)."""
    return sees_subject(principal, year, subject)
