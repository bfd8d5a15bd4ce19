"""What a service's OpenAPI document tells beyond what FastAPI derives from the routes.

``Idempotency-Key`` is declared by the write path's dependency (:data:`shared.writes.WriteDep`,
:data:`shared.idempotency.IdempotencyDep`) on every operation that uses it, yet only an
operation that calls ``replay()`` answers a repeated key with its first answer: the header is
documented there and nowhere else (elsewhere a key would be silently ignored).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

IDEMPOTENCY_HEADER = "idempotency-key"


def replays(endpoint: Callable[..., Any]) -> bool:
    """Whether an endpoint answers a repeated Idempotency-Key with the first answer: its code
    calls ``replay()`` of the write path (``write.replay()``, ``idempotency.replay()``)."""
    code = getattr(inspect.unwrap(endpoint), "__code__", None)
    return code is not None and "replay" in code.co_names


def operations_that_replay(app: FastAPI) -> dict[tuple[str, str], bool]:
    """(path, lower-case method) → whether that operation replays, for every route of ``app``."""
    found: dict[tuple[str, str], bool] = {}
    for route in iter_route_contexts(app.routes):
        endpoint, path = route.endpoint, route.path_format
        if endpoint is None or path is None:
            continue
        for method in route.methods or ():
            found[(path, method.lower())] = replays(endpoint)
    return found


def declare_idempotency_where_replayed(app: FastAPI, document: dict[str, Any]) -> None:
    """Keep the ``Idempotency-Key`` parameter only on the operations that replay."""
    replaying = operations_that_replay(app)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or replaying.get((path, method), True):
                continue
            parameters = operation.get("parameters")
            if not parameters:
                continue
            operation["parameters"] = [
                p
                for p in parameters
                if not (p.get("in") == "header" and p.get("name", "").lower() == IDEMPOTENCY_HEADER)
            ]
            if not operation["parameters"]:
                del operation["parameters"]
