"""OpenAPI links from each create operation to the operations on what it made.

``POST /households`` answers with an ``id``; ``GET`` and ``PATCH /households/{household_id}``
and the operations under ``/households/{household_id}/…`` take that id (a parameter named
like a property of the answer, as ``{year}`` after ``POST /years``, takes that property).
Declaring the link lets client generators and stateful API tests (schemathesis) follow it;
the links are derived from the paths, so a new endpoint gets its links without anyone
writing them.
"""

from __future__ import annotations

import re
from typing import Any

_PARAMETER = re.compile(r"{(\w+)}")
_FOLLOWING_METHODS = ("get", "patch", "put", "post")


def add_links(document: dict[str, Any]) -> None:
    paths: dict[str, dict[str, Any]] = document.get("paths", {})
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        create = item.get("post")
        if create is None or path.endswith("}"):
            continue
        found = _created_answer(create, schemas)
        if found is None:
            continue
        answer, properties = found
        links = {
            target["operationId"]: {
                "operationId": target["operationId"],
                "parameters": {
                    parameter: f"$response.body#/{source}"
                    if parameter == new
                    else f"$request.path.{parameter}"
                    for parameter in _PARAMETER.findall(target_path)
                },
            }
            for target_path, new in _paths_below(path, paths)
            if (source := _source_of(new, properties)) is not None
            for method in _FOLLOWING_METHODS
            if (target := paths[target_path].get(method)) is not None and "operationId" in target
        }
        if links:
            answer.setdefault("links", {}).update(links)


def _created_answer(
    operation: dict[str, Any], schemas: dict[str, Any]
) -> tuple[dict[str, Any], set[str]] | None:
    """The operation's 2xx answer when its JSON body is an object, with its property names."""
    for status, answer in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        while "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if schema.get("properties"):
            return answer, set(schema["properties"])
    return None


def _source_of(parameter: str, properties: set[str]) -> str | None:
    if parameter in properties:
        return parameter
    if parameter.endswith("_id") and "id" in properties:
        return "id"
    return None


def _paths_below(path: str, paths: dict[str, Any]) -> list[tuple[str, str]]:
    """Paths below ``path`` whose first segment is the one new parameter, with its name."""
    found = []
    for target in paths:
        if not target.startswith(path + "/{"):
            continue
        new = target[len(path) + 2 : target.index("}", len(path))]
        if _PARAMETER.findall(target) == [*_PARAMETER.findall(path), new]:
            found.append((target, new))
    return found
