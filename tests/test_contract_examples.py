"""Every contract endpoint of the spec carries examples in the merged OpenAPI document, and
the examples are true: each fits its schema, and each stateless request example, sent
through the gateway, gets an answer that contains the documented answer example."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from platformctl.testing import Platform

# (method, path) → query parameters the spec's example names (path parameters always need one)
CONTRACT: dict[tuple[str, str], tuple[str, ...]] = {
    ("get", "/api/welfare/v1/standards"): ("jurisdiction", "on"),
    ("post", "/api/welfare/v1/calculations"): (),
    ("post", "/api/welfare/v1/recalculations"): (),
    ("post", "/api/appraisal/v1/grading"): (),
    ("get", "/api/renewal/v1/plans/{plan_id}/tasks/{number}"): (),
    ("get", "/api/renewal/v1/plans/{plan_id}/tasks"): ("lead_unit",),
    ("post", "/api/renewal/v1/plans/{plan_id}/tasks/{number}/reports"): (),
    ("get", "/api/renewal/v1/plans/{plan_id}/status"): ("on",),
    ("get", "/api/renewal/v1/plans/{plan_id}/bulletins/{month}"): (),
    ("post", "/api/renewal/v1/equipment/assessments"): (),
    ("post", "/api/eldercare/v1/evaluations"): (),
    ("get", "/api/eldercare/v1/catalogues/{jurisdiction}"): (),
    ("get", "/api/eldercare/v1/discoveries"): ("jurisdiction", "from", "to"),
    ("get", "/api/eldercare/v1/visits/missing"): ("jurisdiction", "month"),
}
# Writes whose example would change shared records: checked against the schema, not sent.
NOT_SENT = {
    ("post", "/api/welfare/v1/recalculations"),
    ("post", "/api/renewal/v1/plans/{plan_id}/tasks/{number}/reports"),
}


@pytest.fixture(scope="module")
async def document(platform: Platform) -> dict[str, Any]:
    async with platform.client() as client:
        found: dict[str, Any] = (await client.get("/openapi.json")).json()
        return found


def parameter_example(parameter: dict[str, Any]) -> Any:
    examples = parameter.get("examples") or {"none": {"value": None}}
    return next(iter(examples.values()))["value"]


def json_content(section: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = section.get("content", {}).get("application/json", {})
    return found


def answer(operation: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The 2xx JSON answer's schema and example (None when it has none)."""
    code = next(code for code in operation["responses"] if code.startswith("2"))
    content = json_content(operation["responses"][code])
    return content.get("schema", {}), content.get("example")


def check(document: dict[str, Any], schema: dict[str, Any], example: Any) -> list[str]:
    validator = Draft202012Validator({**schema, "components": document["components"]})
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(example)
    ]


def contains(answer: Any, example: Any) -> bool:
    """The example is the answer, or a part of it: dict keys a subset, lists a prefix."""
    if isinstance(example, dict):
        return isinstance(answer, dict) and all(
            key in answer and contains(answer[key], value) for key, value in example.items()
        )
    if isinstance(example, list):
        return (
            isinstance(answer, list)
            and len(example) <= len(answer)
            and all(contains(a, e) for a, e in zip(answer, example, strict=False))
        )
    return bool(answer == example)


async def test_every_contract_endpoint_has_examples_that_fit_its_schemas(document: dict[str, Any]) -> None:
    missing, misfits = [], []
    for (method, path), named in CONTRACT.items():
        operation = document["paths"][path][method]
        for parameter in operation.get("parameters", []):
            needed = parameter["in"] == "path" or parameter["name"] in named
            if needed and parameter_example(parameter) is None:
                missing.append(f"{method.upper()} {path} parameter {parameter['name']}")
        if "requestBody" in operation:
            body = json_content(operation["requestBody"])
            if "example" not in body:
                missing.append(f"{method.upper()} {path} request body")
            else:
                misfits += check(document, body["schema"], body["example"])
        schema, example = answer(operation)
        if example is not None:
            misfits += [f"{method.upper()} {path} answer {m}" for m in check(document, schema, example)]
    assert missing == []
    assert misfits == []


async def test_examples_sent_through_the_gateway_get_the_documented_answers(
    platform: Platform, document: dict[str, Any]
) -> None:
    answered = 0
    async with platform.client(headers=await platform.admin_headers()) as client:
        for (method, path), _ in CONTRACT.items():
            if (method, path) in NOT_SENT:
                continue
            operation = document["paths"][path][method]
            url, params = path, {}
            for parameter in operation.get("parameters", []):
                value = parameter_example(parameter)
                if value is None:
                    continue
                if parameter["in"] == "path":
                    url = url.replace("{" + parameter["name"] + "}", str(value))
                elif parameter["in"] == "query":
                    params[parameter["name"]] = value
            body = json_content(operation.get("requestBody", {})).get("example")
            response = await client.request(
                method, url, params=params, json=body, headers={"Accept": "application/json"}
            )
            assert response.status_code == 200, (method, url, response.text[:500])
            _, example = answer(operation)
            if example is not None:
                assert contains(response.json(), example), (method, path, response.text[:1500])
                answered += 1
    assert answered >= 4
