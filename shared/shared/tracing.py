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

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("shared.tracing")
TRACE_ID_HEADER = b"x-trace-id"
ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
_state: dict[str, Any] = {"service": None, "exporting": False}
_PROPAGATOR = TraceContextTextMapPropagator()


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
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    if _state["exporting"]:
        # the gateway's proxy hop as a span of its own; without export the proxy writes the
        # traceparent itself (inject_trace_context), which costs a fraction of the span
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

        AioHttpClientInstrumentor().instrument(tracer_provider=provider)


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class TraceContext:
    """Without an exporter only the ids travel, so no span is built: the caller's
    ``traceparent`` (or a new trace) becomes the request's current context, under a span id of
    this process, for the client calls, ``X-Trace-ID`` and the log lines. The official ASGI
    instrumentation does the same and more (attributes, wrapped send/receive) and doubled the
    gateway's CPU time per request while recording nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in (b"traceparent", b"tracestate")
        }
        parent = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
        ids = RandomIdGenerator()
        own = SpanContext(
            trace_id=parent.trace_id if parent.is_valid else ids.generate_trace_id(),
            span_id=ids.generate_span_id(),
            is_remote=False,
            trace_flags=parent.trace_flags if parent.is_valid else TraceFlags(TraceFlags.DEFAULT),
            trace_state=parent.trace_state if parent.is_valid else None,
        )
        token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(own)))
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)


def inject_trace_context(headers: dict[str, str]) -> None:
    """The current trace as ``traceparent`` on an outgoing request, where no client
    instrumentation does it (the gateway's proxy hop when spans are not exported)."""
    if not exporting():
        _PROPAGATOR.inject(headers)


def trace_asgi(app: ASGIApp) -> ASGIApp:
    """The app inside a server span that takes or starts the trace (the gateway's whole app)."""
    if not exporting():
        return TraceContext(app)
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(app, exclude_spans=["receive", "send"])


def instrument_fastapi(app: Any) -> None:
    """A service's app: a server span per request named by its route template (exporting), or
    only the trace context (see :class:`TraceContext`)."""
    if not exporting():
        app.add_middleware(TraceContext)
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"])


def shutdown_tracing() -> None:
    """Send what is left before the process ends (exporting only)."""
    provider = trace.get_tracer_provider()
    if _state["exporting"] and isinstance(provider, TracerProvider):
        provider.shutdown()
