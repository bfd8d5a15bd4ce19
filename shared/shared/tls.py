"""One TLS context per process for the HTTP clients it makes."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_tls(*, trust_env: bool = True) -> ssl.SSLContext:
    """httpx's own default (certifi's roots; with ``trust_env``, ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` honoured, as the client's own ``trust_env`` does), built once: building one
    reads the whole CA bundle, about 24 ms of CPU, which every new client paid (``verify=True``
    builds a context per client)."""
    return httpx.create_ssl_context(trust_env=trust_env)
