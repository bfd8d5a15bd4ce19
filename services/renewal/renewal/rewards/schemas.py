"""API models of the rewards a plan promises (奖补)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from shared.money import money_str
from shared.schemas import ResponseModel

Yuan = Annotated[Decimal, PlainSerializer(money_str, return_type=str, when_used="json")]
Share = Annotated[Decimal, PlainSerializer(lambda share: format(share.normalize(), "f"), return_type=str)]


class RewardRead(ResponseModel):
    id: str
    recognition: str = Field(description="what earns it, as the plan writes it")
    level: Literal["national", "provincial"]
    kind: Literal["one_off", "matching"] = Field(
        description="一次性奖励, or 配套支持 as a share of other funds"
    )
    amount: Yuan | None = Field(description='yuan, as a string ("500000.00"), for a one-off reward')
    matching_share: Share | None = Field(description='"0.5" for 50%, for a matching reward')
    matched_funds: str | None = Field(description="the funds matched (省财政奖补资金)")
    condition: str | None = Field(description="when it is paid, as the plan writes it")
    text: str = Field(description="the plan's sentence")
    citation: str
    note: str | None
