"""The merged OpenAPI document tells the whole contract, checked operation by operation:

- ``Idempotency-Key`` is declared on exactly the operations that replay a repeated key;
- every JSON request body and JSON success answer has an example, and the example fits its
  schema (the contract endpoints' examples are also sent: tests/test_contract_examples.py);
- every create documented 201 declares ``Location`` and its route sends one;
- enums are named schemas, not repeated inline.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from jsonschema import Draft202012Validator

from appraisal.config import Settings as AppraisalSettings
from appraisal.main import create_app as appraisal_app
from eldercare.config import Settings as EldercareSettings
from eldercare.main import create_app as eldercare_app
from gateway.config import GatewaySettings
from gateway.main import build_gateway
from platformctl.testing import Platform
from renewal.config import Settings as RenewalSettings
from renewal.main import create_app as renewal_app
from shared import created
from shared.openapi_conventions import replays
from welfare.config import Settings as WelfareSettings
from welfare.main import create_app as welfare_app

METHODS = ("get", "post", "put", "patch", "delete")
EXAMPLE_MEDIA = ("application/json", "application/x-www-form-urlencoded")
UNUSED_DATABASE = "postgresql://nobody@127.0.0.1:1/none"  # the apps are built, never started
KEY = base64.b64encode(bytes(32)).decode()


@pytest.fixture(scope="module")
async def document(platform: Platform) -> dict[str, Any]:
    async with platform.client() as client:
        found: dict[str, Any] = (await client.get("/openapi.json")).json()
    assert "x-unavailable-services" not in found
    return found


@pytest.fixture(scope="module")
def apps() -> list[FastAPI]:
    _, gateway = build_gateway(GatewaySettings(database_url=UNUSED_DATABASE))
    return [
        gateway,
        appraisal_app(AppraisalSettings(database_url=UNUSED_DATABASE)),
        welfare_app(
            WelfareSettings(database_url=UNUSED_DATABASE, citizen_id_key=KEY, citizen_id_lookup_key=KEY)
        ),
        eldercare_app(
            EldercareSettings(database_url=UNUSED_DATABASE, citizen_id_key=KEY, citizen_id_lookup_key=KEY)
        ),
        renewal_app(RenewalSettings(database_url=UNUSED_DATABASE)),
    ]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def routes(apps: list[FastAPI]) -> dict[tuple[str, str], tuple[FastAPI, Callable[..., Any]]]:
    found = {}
    for app in apps:
        for route in iter_route_contexts(app.routes):
            if route.endpoint is None or route.path_format is None:
                continue
            for method in route.methods or ():
                found[(route.path_format, method.lower())] = (app, route.endpoint)
    return found


def names_location(endpoint: Callable[..., Any]) -> bool:
    """The endpoint passes ``location=`` to the write path's answer itself."""
    constants = endpoint.__code__.co_consts
    return any(isinstance(c, tuple) and "location" in c for c in constants)


async def test_idempotency_key_is_declared_exactly_where_a_repeated_key_is_replayed(
    document: dict[str, Any], apps: list[FastAPI]
) -> None:
    found = routes(apps)
    wrong, declared = [], 0
    for path, method, operation in operations(document):
        header = [
            p
            for p in operation.get("parameters", [])
            if p["in"] == "header" and p["name"].lower() == "idempotency-key"
        ]
        declared += bool(header)
        assert all(p["required"] is False for p in header), (method, path)
        _, endpoint = found[(path, method)]
        if bool(header) != replays(endpoint):
            wrong.append(f"{method.upper()} {path}: declared {bool(header)}, replays {replays(endpoint)}")
    assert wrong == []
    assert declared >= 40
    accounts = document["paths"]["/auth/admin/accounts"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in accounts["parameters"]}


async def test_every_json_body_and_success_answer_has_an_example_that_fits_its_schema(
    document: dict[str, Any],
) -> None:
    missing, misfits, checked = [], [], 0
    for path, method, operation in operations(document):
        sections = [("request", operation.get("requestBody", {}))] + [
            (status, answer) for status, answer in operation["responses"].items() if status.startswith("2")
        ]
        for where, section in sections:
            for media, content in section.get("content", {}).items():
                if media not in EXAMPLE_MEDIA:
                    continue
                # the specification's own (example) or one derived from the schema (examples)
                examples = [content["example"]] if "example" in content else []
                examples += [named["value"] for named in content.get("examples", {}).values()]
                if not examples:
                    missing.append(f"{method.upper()} {path} {where} {media}")
                    continue
                validator = Draft202012Validator({**content["schema"], "components": document["components"]})
                for example in examples:
                    checked += 1
                    misfits += [
                        f"{method.upper()} {path} {where}: {'/'.join(map(str, e.absolute_path))}: "
                        f"{e.message[:200]}"
                        for e in validator.iter_errors(example)
                    ]
    assert missing == []
    assert misfits == []
    assert checked > 200


async def test_every_create_declares_and_sends_location(
    document: dict[str, Any], apps: list[FastAPI]
) -> None:
    found = routes(apps)
    silent, undeclared, creates = [], [], 0
    for path, method, operation in operations(document):
        if method != "post" or "201" not in operation["responses"]:
            continue
        creates += 1
        if "Location" not in operation["responses"]["201"].get("headers", {}):
            undeclared.append(path)
        app, endpoint = found[(path, method)]
        # the route names it, or shared.created derives it from the reads of the app
        if not names_location(endpoint) and created._read_parameter(app, path) is None:
            silent.append(path)
    assert undeclared == []
    assert silent == []
    assert creates > 30


async def test_answers_declare_the_rate_limit_headers_and_retry_after(document: dict[str, Any]) -> None:
    undeclared = []
    for path, method, operation in operations(document):
        for status, answer in operation["responses"].items():
            names = set(answer.get("headers", {}))
            if path.startswith("/api/") and not {"RateLimit", "RateLimit-Policy"} <= names:
                undeclared.append(f"{method.upper()} {path} {status}: RateLimit")
            if status == "429" and "Retry-After" not in names:
                undeclared.append(f"{method.upper()} {path} 429: Retry-After")
    assert undeclared == []
    assert "429" in document["paths"]["/auth/token"]["post"]["responses"]


def answer_example(operation: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The 200 JSON answer's schema and its example (the specification's, else the derived one)."""
    content = operation["responses"]["200"]["content"]["application/json"]
    examples = [content["example"]] if "example" in content else []
    examples += [named["value"] for named in content.get("examples", {}).values()]
    return content["schema"], examples[0]


def keys(value: Any) -> set[str]:
    return set(value) if isinstance(value, dict) else set()


async def test_the_examples_of_reads_have_the_shape_of_the_live_answers(
    platform: Platform, document: dict[str, Any]
) -> None:
    """Every read that needs no record named in its path is asked through the gateway: the
    answer fits the documented schema, and the example has the answer's fields (at the top,
    and of the first listed item when both list one)."""
    asked, misfits = 0, []
    async with platform.client(headers=await platform.admin_headers()) as client:
        for path, method, operation in operations(document):
            parameters = operation.get("parameters", [])
            if (
                method != "get"
                or path in ("/metrics", "/readyz")
                or path.endswith("/events")  # a long poll; tests/test_events_gateway.py
                or any(p["in"] == "path" or p.get("required") for p in parameters)
                or "application/json" not in operation["responses"].get("200", {}).get("content", {})
            ):
                continue
            response = await client.get(path, headers={"Accept": "application/json"})
            if path.endswith("/webhook-subscriptions"):  # API clients' own, not accounts'
                assert response.status_code == 403, (path, response.text[:300])
                continue
            assert response.status_code == 200, (path, response.text[:300])
            asked += 1
            schema, example = answer_example(operation)
            live = response.json()
            validator = Draft202012Validator({**schema, "components": document["components"]})
            misfits += [f"{path} answer: {e.message[:200]}" for e in validator.iter_errors(live)]
            if keys(example) != keys(live):
                misfits.append(f"{path}: example {sorted(keys(example))}, answer {sorted(keys(live))}")
            listed = [value.get("items") for value in (example, live) if isinstance(value, dict)]
            if len(listed) == 2 and all(isinstance(items, list) and items for items in listed):
                example_item, live_item = listed[0][0], listed[1][0]  # type: ignore[index]
                if keys(example_item) != keys(live_item):
                    misfits.append(
                        f"{path} items: example {sorted(keys(example_item))}, answer {sorted(keys(live_item))}"
                    )
    assert misfits == []
    assert asked > 25


def inline_enums(node: Any, where: str) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and len(node["enum"]) > 1:
            yield where
        for key, value in node.items():
            if key not in ("example", "examples", "default"):
                yield from inline_enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from inline_enums(item, f"{where}/{index}")


async def test_enums_are_named_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    named = {name for name, schema in schemas.items() if "enum" in schema}
    inline = list(inline_enums(document["paths"], "paths"))
    for name, schema in schemas.items():
        if name not in named:
            inline += inline_enums(schema, f"components/schemas/{name}")
    assert inline == []
    assert len(named) > 50
    assert document["components"]["schemas"]["AppraisalGrade"]["enum"] == ["A", "B", "C", "D"]


async def test_a_create_without_a_read_of_its_own_sends_where_it_is_read_back(platform: Platform) -> None:
    """A leader's absence has no read of one absence: Location names the plan's list of them,
    and that list holds it; a replay repeats the Location."""
    plan = "/api/renewal/v1/plans/panjin-2024-equipment-renewal"
    absence = {"leader": "胡振乾", "away_from": "2033-09-01", "away_to": "2033-09-02", "reason": "学习"}
    key = {"Idempotency-Key": "absence-2033-09-01"}
    async with platform.client(headers=await platform.admin_headers()) as client:
        made = await client.post(f"{plan}/leader-absences", json=absence, headers=key)
        assert made.status_code == 201, made.text
        assert made.headers["Location"] == f"{plan}/leader-absences"
        again = await client.post(f"{plan}/leader-absences", json=absence, headers=key)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == made.headers["Location"]
        listed = await client.get(made.headers["Location"])
        assert listed.status_code == 200, listed.text
        assert any(item["away_from"] == "2033-09-01" for item in listed.json()["items"])
