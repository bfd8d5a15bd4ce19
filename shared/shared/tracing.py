"""OpenTelemetry tracing: W3C ``traceparent`` in and out of every process, spans exported over
OTLP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

- Server side: the official ASGI/FastAPI instrumentation takes a caller's ``traceparent`` or
  starts a trace (the gateway starts it for the platform); every answer names its trace in
  ``X-Trace-ID`` and every log line written while answering carries ``trace_id`` (``shared.logs``).
- Client side: the aiohttp-client (the gateway's proxy) and httpx (eldercare → welfare)
  instrumentations send ``traceparent`` on, so one trace id crosses gateway → service → service.
- Export: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (and the other standard ``OTEL_*`` variables), a
  batch processor sends the spans over OTLP/HTTP, and database calls get spans too (asyncpg
  instrumentation). Without it no span is recorded (the sampler drops all, so instrumentations
  skip their attributes), nothing is exported and the database driver is left unwrapped: only
  the ids travel.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased
from starlette.types import ASGIApp

logger = logging.getLogger("shared.tracing")
TRACE_ID_HEADER = b"x-trace-id"
ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
_state: dict[str, Any] = {"service": None, "exporting": False}


def exporting() -> bool:
    return bool(os.environ.get(ENDPOINT_VARIABLE) or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def setup_tracing(service: str) -> None:
    """Once per process: the tracer provider and the client instrumentations."""
    if _state["service"] is not None:
        return
    _state["service"] = service
    _state["exporting"] = exporting()
    resource = Resource.create({"service.name": service, "service.namespace": "civic-platform"})
    if _state["exporting"]:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
        provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(ratio)))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
        logger.info("tracing: exporting spans over OTLP", extra={"sample_ratio": ratio})
    else:
        provider = TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    AioHttpClientInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def trace_asgi(app: ASGIApp) -> ASGIApp:
    """The app inside a server span that takes or starts the trace (the gateway's whole app)."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(app, exclude_spans=["receive", "send"])


def instrument_fastapi(app: Any) -> None:
    """A service's app: a server span per request named by its route template."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"])


def shutdown_tracing() -> None:
    """Send what is left before the process ends (exporting only)."""
    provider = trace.get_tracer_provider()
    if _state["exporting"] and isinstance(provider, TracerProvider):
        provider.shutdown()
