"""Overpayments a recalculation found: negative ledger entries pending staff review, and the
decision staff record on each (recover or waive, with the reason and the document). Nothing
deducts an overpayment from a later payment: the decision is recorded here, and carried out
by the offices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.access import filtered_to
from shared.auth import Principal, ensure_jurisdiction
from shared.errors import NotFound
from shared.pagination import PageParams
from shared.writes import WriteContext
from welfare.payroll.models import LedgerEntry
from welfare.recalculation.models import OverpaymentDecision
from welfare.recalculation.schemas import OverpaymentDecisionCreate


def _query(principal: Principal, jurisdiction: str | None) -> Select[Any]:
    query = (
        select(LedgerEntry, OverpaymentDecision)
        .outerjoin(OverpaymentDecision, OverpaymentDecision.entry_id == LedgerEntry.id)
        .where(LedgerEntry.kind == "overpayment")
    )
    return filtered_to(cast("Select[Any]", query), LedgerEntry.jurisdiction, principal, jurisdiction)


async def list_overpayments(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    jurisdiction: str | None,
    status: Literal["pending", "decided"] | None,
) -> tuple[Sequence[Any], int]:
    query = _query(principal, jurisdiction)
    if status == "pending":
        query = query.where(OverpaymentDecision.entry_id.is_(None))
    elif status == "decided":
        query = query.where(OverpaymentDecision.entry_id.is_not(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(LedgerEntry.id).limit(page.limit).offset(page.offset))).all()
    return rows, int(total or 0)


async def decide(
    write: WriteContext, *, entry_id: int, data: OverpaymentDecisionCreate
) -> tuple[LedgerEntry, OverpaymentDecision]:
    """Record the decision on an overpayment of the caller's area (404 otherwise; 409 when one
    is recorded already: a decision is never changed)."""
    entry = await write.session.get(LedgerEntry, entry_id)
    if entry is None or entry.kind != "overpayment":
        raise NotFound(f"No overpayment {entry_id}.")
    ensure_jurisdiction(write.principal, entry.jurisdiction, hide=True)
    decision = OverpaymentDecision(
        entry_id=entry.id,
        jurisdiction=entry.jurisdiction,
        decision=data.decision,
        reason=data.reason,
        document_reference=data.document_reference,
        decided_by=write.principal.actor,
    )
    await write.add(
        decision, conflict=f"Overpayment {entry_id} has a recorded decision already; it is never changed."
    )
    await write.session.refresh(decision)
    await write.record(
        action="decide",
        entity="overpayment",
        entity_id=entry.id,
        jurisdiction=entry.jurisdiction,
        before={"amount": str(entry.amount), "month": entry.month.isoformat(), "review": "pending"},
        after={
            "decision": data.decision,
            "reason": data.reason,
            "document_reference": data.document_reference,
        },
        event=None,
    )
    return entry, decision
