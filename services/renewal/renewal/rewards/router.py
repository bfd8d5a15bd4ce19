"""HTTP for the rewards a plan promises."""

from __future__ import annotations

from fastapi import APIRouter

from renewal.access import Reader
from renewal.plans.dependencies import PlanDep
from renewal.rewards.schemas import RewardRead
from shared.pagination import Page, PageDep
from shared.problems import problem_responses

router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])


@router.get(
    "/plans/{plan_id}/rewards",
    response_model=Page[RewardRead],
    summary="The rewards the plan promises (奖补): one-off amounts in yuan, or a share matching other funds",
    responses=problem_responses(404),
)
async def list_rewards(principal: Reader, plan: PlanDep, page: PageDep) -> Page[RewardRead]:
    rewards = [RewardRead.model_validate(reward) for reward in plan.spec.rewards]
    return Page.of(rewards[page.offset : page.offset + page.limit], len(rewards), page)
