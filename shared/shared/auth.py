"""Token verification against the gateway's JWKS, and the principal a request acts as.

Every service verifies tokens itself (zero trust). Keys are cached by ``kid`` and the
JWKS is fetched again when a token names a ``kid`` not yet seen (key rotation), at
most once per ``jwks_refresh_min_seconds``; requests with unknown kids share the one fetch
in flight (or the one scheduled at the end of the interval) instead of queueing one
interval each.

Revocation: the gateway publishes, per subject, the instant before which its tokens are
refused (deactivation, changed grants, a new password). A :class:`RevocationList` keeps
that list no older than ``max_age_seconds`` (refreshed in the background while requests
flow, fetched before the check when older), and a token whose ``iat`` is earlier than
its subject's instant is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urljoin

import httpx
import jwt
from fastapi import Depends, Request

from shared.errors import Forbidden, NotFound, Unauthorized
from shared.jurisdictions import registry
from shared.tls import client_tls

logger = logging.getLogger(__name__)
REVOKED = "The token was revoked (the account was deactivated or its grants changed)."
ALGORITHMS = ["EdDSA"]
VERIFIED_CACHE_SIZE = 10_000
ALL_JURISDICTIONS = "*"
JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account (password grant) or an API client (client credentials)."""

    subject: str
    roles: frozenset[str]
    scopes: frozenset[str]
    jurisdictions: tuple[str, ...]
    units: tuple[str, ...] = ()
    client_id: str | None = None
    name: str | None = None
    token_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def sees_everything(self) -> bool:
        return ALL_JURISDICTIONS in self.jurisdictions

    def can_access(self, jurisdiction: str) -> bool:
        """True when ``jurisdiction`` lies in the subtree of one of the principal's own
        (a retired code included: records registered under it stay with their city)."""
        if self.sees_everything:
            return jurisdiction in registry()
        codes = registry()
        return any(codes.contains(own, jurisdiction) for own in self.jurisdictions)

    def visible_jurisdictions(self) -> tuple[str, ...]:
        """Every jurisdiction code the principal may see, retired ones included (for SQL
        ``IN`` filters). Computed once per set of codes and cached; a platform-wide
        principal gets every known code, so callers skip the filter for it instead
        (:func:`shared.access.in_scope`)."""
        if self.sees_everything:
            return registry().codes(retired=True)
        return registry().scope(self.jurisdictions)

    @property
    def actor(self) -> str:
        return self.subject


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    scope = claims.get("scope", "")
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(claims.get("roles", [])),
        scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        jurisdictions=tuple(claims.get("jurisdictions", [])),
        units=tuple(claims.get("units", [])),
        client_id=claims.get("client_id"),
        name=claims.get("name"),
        token_id=claims.get("jti"),
        claims=claims,
    )


def http_jwks_fetcher(url: str, timeout: float = 5.0) -> JwksFetcher:
    """GET ``url`` as JSON with one kept-alive client per event loop (polled every second or
    two for revocations: a new client per call would build a TLS context each time)."""
    held: dict[str, Any] = {"loop": None, "client": None}

    async def fetch() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        if held["loop"] is not loop:
            held.update(loop=loop, client=httpx.AsyncClient(timeout=timeout, verify=client_tls()))
        client: httpx.AsyncClient = held["client"]
        response = await client.get(url)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    return fetch


def subject_digest(subject: str) -> str:
    """How the published revocation list names a subject (not in clear)."""
    return hashlib.sha256(subject.encode()).hexdigest()[:32]


class RevocationList:
    """Subject → the instant (epoch seconds) before which its tokens are refused.

    With ``fetch`` (a service): the gateway's list, refreshed in the background once it is
    older than half of ``max_age_seconds`` and fetched before answering once it is older
    than ``max_age_seconds`` (waiting at most ``fetch_timeout_seconds``; a gateway that does
    not answer leaves the last list in force and is asked again on the next request after
    half the interval). Without (the gateway itself): fed by :meth:`replace`.
    """

    def __init__(
        self,
        fetch: JwksFetcher | None = None,
        *,
        max_age_seconds: float = 2.0,
        fetch_timeout_seconds: float = 0.5,
    ) -> None:
        self._fetch = fetch
        self.max_age_seconds = max_age_seconds
        self.fetch_timeout_seconds = fetch_timeout_seconds
        self._not_before: dict[str, float] = {}
        self._fetched_at = float("-inf")
        self.fetched_at_epoch: float | None = None  # wall clock of the list in force
        self._refreshing: asyncio.Task[None] | None = None

    def replace(self, not_before: dict[str, float]) -> None:
        """The whole list, keyed by :func:`subject_digest`."""
        self._not_before = not_before
        self._fetched_at = time.monotonic()
        self.fetched_at_epoch = time.time()

    def snapshot(self) -> dict[str, float]:
        return dict(self._not_before)

    def revoked(self, subject: str, issued_at: float) -> bool:
        if not self._not_before:
            return False
        not_before = self._not_before.get(subject_digest(subject))
        return not_before is not None and issued_at < not_before

    async def ensure_fresh(self) -> None:
        if self._fetch is None:
            return
        age = time.monotonic() - self._fetched_at
        if age <= self.max_age_seconds / 2:
            return
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh())
        if age > self.max_age_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._refreshing), self.fetch_timeout_seconds)

    async def _refresh(self) -> None:
        assert self._fetch is not None
        try:
            document = await self._fetch()
            entries = document["not_before"]
            self.replace({str(digest): float(instant) for digest, instant in entries.items()})
        except (httpx.HTTPError, OSError, ValueError, KeyError, TypeError, AttributeError):
            logger.warning("the token revocation list could not be fetched; the last one stays in force")
            # ask again on the next request after half the interval, without making every request wait
            self._fetched_at = time.monotonic() - self.max_age_seconds / 2


def revocations_url(jwks_url: str) -> str:
    """The gateway's revocation list, beside its JWKS."""
    return urljoin(jwks_url, "/auth/revocations")


class TokenVerifier:
    def __init__(
        self,
        fetch_jwks: JwksFetcher,
        *,
        issuer: str,
        audience: str,
        refresh_min_seconds: float = 10.0,
        leeway_seconds: float = 5.0,
        revocations: RevocationList | None = None,
    ) -> None:
        self._fetch_jwks = fetch_jwks
        self.issuer = issuer
        self.audience = audience
        self.refresh_min_seconds = refresh_min_seconds
        self.leeway_seconds = leeway_seconds
        self.revocations = revocations
        self._keys: dict[str, jwt.PyJWK] = {}
        # verified tokens, until they expire: a client sends the same token many times
        self._verified: OrderedDict[str, Principal] = OrderedDict()
        self._last_fetch = float("-inf")
        self._fetching: asyncio.Task[None] | None = None

    async def _refresh(self) -> None:
        """Join the fetch in flight or start one: now, or at the end of the interval since the
        last one when that is still running. Concurrent callers share that one fetch, so a
        burst of unknown kids waits at most one interval, never one interval per request."""
        if self._fetching is None or self._fetching.done():
            delay = max(0.0, self.refresh_min_seconds - (time.monotonic() - self._last_fetch))
            self._fetching = asyncio.create_task(self._fetch_keys(delay))
        await asyncio.shield(self._fetching)

    async def _fetch_keys(self, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        self._last_fetch = time.monotonic()
        try:
            document = await self._fetch_jwks()
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise Unauthorized("The token signing keys could not be fetched.") from exc
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []):
            kid = entry.get("kid")
            if kid and entry.get("use", "sig") == "sig":
                keys[kid] = jwt.PyJWK.from_dict(entry)
        self._keys = keys

    async def _key_for(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The token was signed with an unknown key.")
        return key

    async def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None and cached.claims["exp"] > time.time():
            principal = cached
        else:
            principal = await self._verify_signature_and_claims(token)
            self._verified[token] = principal
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        if self.revocations is not None:
            await self.revocations.ensure_fresh()
            if self.revocations.revoked(principal.subject, float(principal.claims["iat"])):
                raise Unauthorized(
                    "The token was revoked (the account was deactivated or its grants changed)."
                )
        return principal

    async def _verify_signature_and_claims(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token is malformed.") from exc
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("The token's signing algorithm is not accepted.")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("The token has no key id (kid).")
        key = await self._key_for(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized("The token is not meant for this platform (audience).") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("The token was not issued by the platform's gateway.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is not valid.") from exc
        return principal_from_claims(claims)


BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="civic-platform"'}


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer token is required.", headers=BEARER_CHALLENGE)
    return token.strip()


async def current_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify(bearer_token(request))
    except Unauthorized as exc:
        exc.headers.update(BEARER_CHALLENGE)
        raise
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only principals holding ``scope`` (e.g. ``welfare:write``)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_scope(scope):
            raise Forbidden(f"This operation needs the scope {scope}.")
        return principal

    return check


def ensure_jurisdiction(principal: Principal, jurisdiction: str, *, hide: bool = False) -> None:
    """Refuse a jurisdiction outside the principal's subtree.

    ``hide=True`` answers 404 (for records, so their existence is not revealed);
    otherwise 403 for a request that names a jurisdiction the caller may not act in.
    """
    if principal.can_access(jurisdiction):
        return
    if hide:
        raise NotFound("No such record.")
    raise Forbidden(f"Jurisdiction {jurisdiction} is outside your area of responsibility.")
