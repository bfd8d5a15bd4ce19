"""OpenAPI examples for the contract endpoints, written where the route is declared.

``openapi_extra=request_example(...)`` documents a JSON request body and
``responses={**problem_responses(...), **answer_example(...)}`` a JSON answer (merged with
the schema FastAPI generates from ``response_model``). Path and query parameters carry
theirs with ``Query(openapi_examples=parameter_example(...))`` (also for enum-typed ones,
whose schema keeps no ``examples``). The suite sends every
request example through the gateway and checks the answer against the answer example.
"""

from __future__ import annotations

from typing import Any

from fastapi.openapi.models import Example


def request_example(example: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"example": example}}}}


def answer_example(example: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    return {status: {"content": {"application/json": {"example": example}}}}


def parameter_example(value: Any) -> dict[str, Example]:
    return {"contract": Example(summary="the specification's example", value=value)}
