"""No request hops through the thread pool: every endpoint and every dependency of every route
of the gateway and the four services is a coroutine (or an async generator).

FastAPI runs a plain ``def`` dependency in a worker thread. Each such hop hands the request
to another thread and back; while a job of the same process keeps the event loop busy, the
worker waits for the interpreter lock and the loop for the worker, several milliseconds a
hop (seen as the slow tail of single evaluations while a month of snapshots ran).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from gateway.config import GatewaySettings
from gateway.main import build_gateway
from shared.testing import ServiceInProcess


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _is_async(call: Callable[..., Any]) -> bool:
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def _api_routes(app: FastAPI) -> list[Any]:
    """Every API route as served: the routes of included routers too, each with the
    dependencies its routers add."""
    return [route for route in iter_route_contexts(app.routes) if isinstance(route.original_route, APIRoute)]


def _sync_calls(app: FastAPI) -> list[str]:
    found = []
    for route in _api_routes(app):
        for call in _calls(route.dependant):
            if not _is_async(call):
                name = getattr(call, "__qualname__", type(call).__qualname__)
                found.append(f"{sorted(route.methods)} {route.path}: {call.__module__}.{name}")
    return found


async def test_no_service_route_runs_in_the_thread_pool(
    services_in_process: dict[str, ServiceInProcess],
) -> None:
    routes = 0
    for service in services_in_process.values():
        app = service.app
        assert isinstance(app, FastAPI)
        routes += len(_api_routes(app))
        assert _sync_calls(app) == []
    assert routes > 100  # the walk saw the services' routes


async def test_no_gateway_route_runs_in_the_thread_pool(migrated_database: str) -> None:
    _, api = build_gateway(GatewaySettings(database_url=migrated_database))
    assert len(_api_routes(api)) > 10
    assert _sync_calls(api) == []
