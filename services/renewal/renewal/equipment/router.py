"""HTTP for equipment assessments."""

from __future__ import annotations

from fastapi import APIRouter, Request

from renewal.access import Reader
from renewal.equipment import service
from renewal.equipment.schemas import EquipmentAnswer, EquipmentAssessment
from renewal.equipment.thresholds import Thresholds
from shared.examples import answer_example, request_example
from shared.problems import problem_responses

# tagged "plans" first, as when every route was in one router: the operation id stays plans-assess_equipment
router = APIRouter(prefix="/api/renewal/v1", tags=["plans"])
# renewal.md "Contract endpoints"
EQUIPMENT_EXAMPLE = {"kind": "tractor", "in_service_since": "2008-05-01", "on": "2024-06-01"}
EQUIPMENT_ANSWER = {
    "kind": "tractor",
    "name": "拖拉机",
    "renew": True,
    "task": 22,
    "plan": "panjin-2024-equipment-renewal",
    "reason": "拖拉机 in service 16 full years; task 22: 报废 those of 15 years or more (15年以上) that are "
    "also 技术状况差、维修成本高; 技术状况差、维修成本高 not given: assumed to hold, the age alone sufficing "
    "(farm_machinery_age_alone_suffices=true)",
    "age_years": 16,
    "citation": "盘政发〔2024〕4号 二（三）22：加快15年以上的老旧拖拉机、12年以上的联合收割机、"
    "10年以上的悬挂式联合收割机等技术状况差、维修成本高的农业机械报废",
    "conditions": [
        {"condition": "age", "text": "15年以上", "held": True, "given": True, "assumed": False},
        {
            "condition": "poor_technical_condition",
            "text": "技术状况差",
            "held": True,
            "given": False,
            "assumed": True,
        },
        {
            "condition": "high_maintenance_cost",
            "text": "维修成本高",
            "held": True,
            "given": False,
            "assumed": True,
        },
    ],
    "interpretations": [{"name": "farm_machinery_age_alone_suffices", "value": True}],
}


@router.post(
    "/equipment/assessments",
    response_model=EquipmentAnswer,
    tags=["equipment"],
    summary="Is this piece of equipment due for renewal, and under which task?",
    responses={**problem_responses(422), **answer_example(EQUIPMENT_ANSWER)},
    openapi_extra=request_example(EQUIPMENT_EXAMPLE),
)
async def assess_equipment(
    principal: Reader, data: EquipmentAssessment, request: Request
) -> dict[str, object]:
    thresholds: Thresholds = request.app.state.equipment_thresholds
    return service.assess(
        thresholds=thresholds,
        kind=data.kind,
        in_service_since=data.in_service_since,
        on=data.on,
        emission_standard=data.emission_standard,
    )
