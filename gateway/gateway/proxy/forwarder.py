"""The proxy hot path: ``/api/{service}/...`` forwarded as a pure ASGI app.

No framework routing on this path: headers are filtered once, bodies stream both
ways as raw bytes (no decompression), one pooled aiohttp client serves every
upstream. Connect errors answer 503, timeouts 504, both as problem+json.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from prometheus_client import Counter
from starlette.types import Receive, Scope, Send
from yarl import URL

from gateway.config import GatewaySettings
from gateway.iam.keys import KeyRing
from gateway.iam.throttle import client_address
from gateway.proxy.ratelimit import WINDOW_SECONDS, RateLimiter, Verdict
from shared.auth import REVOKED, RevocationList
from shared.middleware import ROUTE_HEADER
from shared.problems import PROBLEM_MEDIA_TYPE, problem_body
from shared.tracing import inject_trace_context

logger = logging.getLogger(__name__)
UPSTREAM_ERRORS = Counter(
    "gateway_upstream_errors_total",
    "Proxied requests the gateway answered itself because the service failed them",
    ["service", "status"],
)
REFUSALS = Counter(
    "gateway_refusals_total",
    "Proxied requests refused before reaching a service",
    ["service", "reason"],
)

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authorization",
        b"proxy-authenticate",
        b"proxy-connection",
        b"host",
        b"content-length",
    }
)
# The gateway's own server writes these on every response.
RESPONSE_DROP = HOP_BY_HOP | {b"date", b"server", b"x-request-id", ROUTE_HEADER}
# Identity headers only the gateway may set.
GATEWAY_SET = frozenset(
    {b"x-request-id", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"}
)


# How long an idle connection to a service is kept for the next request. Services keep an idle
# connection longer (platformctl.supervisor.KEEP_ALIVE_SECONDS, deploy/entrypoint.sh): the
# gateway always closes first, and never sends a request on a connection the service is
# closing at that moment (a POST broken off so is a 502, and is not retried).
UPSTREAM_IDLE_SECONDS = 60


@dataclass(frozen=True)
class ProxyRoute:
    """Stands in for a framework route so metrics label proxied calls by service."""

    path: str


class BodyTooLarge(Exception):
    pass


class BodyTooSlow(Exception):
    pass


@dataclass
class _Body:
    """The request body as it streams to the service, and why it stopped, if it did (the
    HTTP client may wrap the reason in one of its own errors)."""

    limit: int
    too_large: bool = False
    too_slow: bool = False


@dataclass(frozen=True)
class TokenIdentity:
    identity: str  # the rate-limit key: client:ID or sub:NAME
    subject: str
    issued_at: float
    expires: float  # event-loop time


class _TokenIdentities:
    """Verified token → rate-limit identity (and its own limit), cached per token."""

    def __init__(self, ring: KeyRing, settings: GatewaySettings, client_limits: dict[str, int]) -> None:
        self.ring = ring
        self.settings = settings
        self.client_limits = client_limits
        self._cache: OrderedDict[str, TokenIdentity] = OrderedDict()

    def identify(self, token: str) -> TokenIdentity | None:
        hit = self._cache.get(token)
        if hit is not None and hit.expires > asyncio.get_running_loop().time():
            return hit
        try:
            header = jwt.get_unverified_header(token)
            key = next((k for k in self.ring.published if k.get("kid") == header.get("kid")), None)
            if key is None:
                return None
            claims = jwt.decode(
                token,
                key=jwt.PyJWK.from_dict(key),
                algorithms=["EdDSA"],
                audience=self.settings.token_audience,
                issuer=self.settings.token_issuer,
                leeway=5,  # as the services: a token issued right after a revocation may be a second ahead
            )
        except jwt.PyJWTError:
            return None
        ttl = max(0.0, float(claims["exp"]) - time.time())
        identity = TokenIdentity(
            identity=f"client:{claims['client_id']}" if claims.get("client_id") else f"sub:{claims['sub']}",
            subject=str(claims["sub"]),
            issued_at=float(claims["iat"]),
            expires=asyncio.get_running_loop().time() + ttl,
        )
        self._cache[token] = identity
        if len(self._cache) > 10_000:
            self._cache.popitem(last=False)
        return identity


class Forwarder:
    def __init__(
        self, settings: GatewaySettings, ring: KeyRing, limiter: RateLimiter, revocations: RevocationList
    ) -> None:
        self.settings = settings
        self.revocations = revocations
        self.trusted = settings.trusted_networks
        self.route_limits = [
            (re.compile(fnmatch.translate(pattern)), limit)
            for pattern, limit in settings.route_body_limits.items()
        ]
        self.upstreams = dict(settings.service_urls().items())
        self.routes = {name: ProxyRoute(f"/api/{name}") for name in self.upstreams}
        self.limiter = limiter
        self.client_limits: dict[str, int] = {}
        self.identities = _TokenIdentities(ring, settings, self.client_limits)
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.settings.upstream_pool_size,
            limit_per_host=self.settings.upstream_pool_size,
            keepalive_timeout=UPSTREAM_IDLE_SECONDS,
            ttl_dns_cache=300,
            enable_cleanup_closed=True,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=self.settings.upstream_connect_timeout_seconds,
                sock_read=self.settings.upstream_timeout_seconds,
            ),
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        service = path.split("/", 3)[2] if path.count("/") >= 2 else ""
        upstream = self.upstreams.get(service)
        if upstream is None:
            await _problem(send, scope, 404, f"No service named '{service}' behind this gateway.")
            return
        scope["route"] = self.routes[service]
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        token = self._token(headers)
        if token is not None:
            scope.setdefault("state", {})["client_id"] = token.identity
        if token is not None and self.revocations.revoked(token.subject, token.issued_at):
            REFUSALS.labels(service, "revoked").inc()
            await _problem(
                send,
                scope,
                401,
                REVOKED,
                headers=[(b"www-authenticate", b'Bearer realm="civic-platform"')],
            )
            return
        identity, limit = self._identity(scope, token)
        verdict = await self.limiter.hit(identity, limit)
        limit_headers = rate_limit_headers(limit, verdict)
        if not verdict.allowed:
            REFUSALS.labels(service, "rate_limited").inc()
            await _problem(
                send,
                scope,
                429,
                "Too many requests; slow down and retry later.",
                headers=[(b"retry-after", str(verdict.retry_after).encode()), *limit_headers],
            )
            return
        content_length = _header(headers, b"content-length")
        body = _Body(self.settings.max_body_bytes)
        if content_length is not None or _header(headers, b"transfer-encoding") is not None:
            body.limit = self._body_limit(path)
        if content_length is not None:
            if not content_length.isdigit():
                await _problem(send, scope, 400, "Content-Length is not a number.", headers=limit_headers)
                return
            if int(content_length) > body.limit:
                REFUSALS.labels(service, "body_too_large").inc()
                await _problem(send, scope, 413, _too_large(body), headers=limit_headers)
                return
        await self._forward(scope, receive, send, upstream, headers, content_length, limit_headers, body)

    def _token(self, headers: list[tuple[bytes, bytes]]) -> TokenIdentity | None:
        authorization = _header(headers, b"authorization")
        if authorization and authorization[:7].lower() == b"bearer ":
            return self.identities.identify(authorization[7:].decode("latin-1").strip())
        return None

    def _identity(self, scope: Scope, token: TokenIdentity | None) -> tuple[str, int]:
        if token is not None:
            limit = self.client_limits.get(token.identity, self.settings.rate_limit_per_minute)
            return token.identity, limit
        return f"ip:{client_address(scope, self.trusted)}", self.settings.anonymous_rate_limit_per_minute

    def _body_limit(self, path: str) -> int:
        """The largest body this path takes: the first matching ``route_body_limits`` pattern's,
        else ``max_body_bytes``."""
        for pattern, limit in self.route_limits:
            if pattern.match(path):
                return limit
        return self.settings.max_body_bytes

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        upstream: str,
        headers: list[tuple[bytes, bytes]],
        content_length: bytes | None,
        limit_headers: list[tuple[bytes, bytes]],
        body: _Body,
    ) -> None:
        assert self.session is not None
        request_id = scope.get("state", {}).get("request_id", "")
        out_headers = _forward_headers(scope, headers, request_id)
        method: str = scope["method"]
        has_body = content_length not in (None, b"0") or _header(headers, b"transfer-encoding") is not None
        if content_length is not None and content_length != b"0":
            out_headers["Content-Length"] = content_length.decode()
        url = upstream + scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        started = False
        try:
            async with self.session.request(
                method,
                URL(url, encoded=True),
                headers=out_headers,
                data=self._body(receive, body) if has_body else None,
                allow_redirects=False,
                compress=None,
            ) as upstream_response:
                response_headers = [
                    (name.lower(), value)
                    for name, value in upstream_response.raw_headers
                    if name.lower() not in RESPONSE_DROP
                ]
                # counted per route template (the service names the one that answered)
                template = upstream_response.headers.get(ROUTE_HEADER.decode())
                if template is not None and template.startswith(scope["route"].path + "/"):
                    scope["route"] = ProxyRoute(template)
                response_headers = _public_locations(response_headers)
                response_headers.append((b"x-request-id", request_id.encode()))
                response_headers.extend(limit_headers)
                length = upstream_response.headers.get("Content-Length")
                if length is not None:
                    response_headers.append((b"content-length", length.encode()))
                await send(
                    {
                        "type": "http.response.start",
                        "status": upstream_response.status,
                        "headers": response_headers,
                    }
                )
                started = True
                if length is not None and int(length) <= 65_536:
                    content = await upstream_response.read()
                    await send({"type": "http.response.body", "body": content, "more_body": False})
                    return
                async for chunk in upstream_response.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except Exception as exc:
            # the body's own verdict first: the HTTP client may report it as one of its errors
            if body.too_large:
                status, detail = 413, _too_large(body)
            elif body.too_slow:
                status, detail = 408, "The request body arrived too slowly; send it again faster."
            elif isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
                status, detail = 504, "The service did not answer in time."
            elif isinstance(exc, aiohttp.ClientConnectorError):
                status, detail = 503, "The service is not reachable; try again shortly."
            elif isinstance(exc, aiohttp.ClientError):
                logger.warning("upstream failure", extra={"error": type(exc).__name__})
                status, detail = 502, "The service broke off its answer."
            else:
                raise
            if status >= 500:
                UPSTREAM_ERRORS.labels(scope["route"].path.split("/")[2], str(status)).inc()
            else:
                REFUSALS.labels(
                    scope["route"].path.split("/")[2], "body_too_slow" if status == 408 else "body_too_large"
                ).inc()
            if not started:
                extra = [(b"connection", b"close")] if status in (408, 413) else []
                await _problem(send, scope, status, detail, headers=[*limit_headers, *extra])

    async def _body(self, receive: Receive, body: _Body) -> AsyncIterator[bytes]:
        """The client's body as it arrives, at no less than ``min_body_rate_bytes_per_second``
        after ``body_grace_seconds`` (a slow line passes, a trickle is cut off: 408, and the
        service's connection is released with the aborted request)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        grace, rate = self.settings.body_grace_seconds, self.settings.min_body_rate_bytes_per_second
        received = 0
        while True:
            try:
                async with asyncio.timeout_at(started + grace + received / rate):
                    message = await receive()
            except TimeoutError:
                body.too_slow = True
                raise BodyTooSlow from None
            if message["type"] == "http.disconnect":
                raise aiohttp.ClientError("client disconnected")
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > body.limit:
                body.too_large = True
                raise BodyTooLarge
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


def _too_large(body: _Body) -> str:
    return f"The request body is larger than {body.limit} bytes."


def rate_limit_headers(limit: int, verdict: Verdict) -> list[tuple[bytes, bytes]]:
    """``RateLimit-Policy`` and ``RateLimit`` (IETF httpapi ratelimit-headers draft): the
    per-minute quota and what is left of it, with the seconds until the window resets."""
    return [
        (b"ratelimit-policy", f'"per-minute";q={limit};w={WINDOW_SECONDS}'.encode()),
        (b"ratelimit", f'"per-minute";r={verdict.remaining};t={verdict.retry_after}'.encode()),
    ]


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


LOCATION_HEADERS = {b"location", b"content-location"}


def _public_locations(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A service's ``Location`` as the gateway's caller may see it: a path stays (services'
    paths are the gateway's); an absolute address (the service's own, inside the platform)
    becomes its path, and one naming no path is dropped. Callers never learn internal
    addresses."""
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if name in LOCATION_HEADERS:
            text = value.decode("latin-1").strip()
            if text.startswith("//") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text):
                target = URL(text)
                if not target.path.startswith("/api/"):
                    continue
                text = target.raw_path_qs
            value = text.encode("latin-1")
        out.append((name, value))
    return out


def _forward_headers(scope: Scope, headers: list[tuple[bytes, bytes]], request_id: str) -> dict[str, str]:
    connection_listed = set()
    for key, value in headers:
        if key == b"connection":
            connection_listed |= {token.strip().lower() for token in value.split(b",")}
    out: dict[str, str] = {}
    host = ""
    for key, value in headers:
        if key == b"host":
            host = value.decode("latin-1")
        if key in HOP_BY_HOP or key in GATEWAY_SET or key in connection_listed:
            continue
        name = key.decode("latin-1")
        text = value.decode("latin-1")
        out[name] = f"{out[name]}, {text}" if name in out else text
    client = scope.get("client")
    out["x-request-id"] = request_id
    out["x-forwarded-for"] = client[0] if client else "unknown"
    out["x-forwarded-proto"] = scope.get("scheme", "http")
    if host:
        out["x-forwarded-host"] = host
    inject_trace_context(out)
    return out


async def _problem(
    send: Send,
    scope: Scope,
    status: int,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body: dict[str, Any] = problem_body(status, detail, instance=scope["path"])
    payload = json.dumps(body, ensure_ascii=False).encode()
    response_headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload)).encode()),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})
