"""Schemathesis hooks (``hooks`` in schemathesis.toml): each generated request that carries an
``Idempotency-Key`` gets a fresh one.

Generated keys repeat across generated bodies ("0", "00", …), and the platform rightly answers
a key re-used with another body with 422; a fresh key per call keeps fuzzing about the bodies.
What a repeated key does is the subject of tests/test_idempotency_and_etags.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

HEADER = "idempotency-key"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == HEADER:
            headers[name] = f"fuzz-{uuid.uuid4()}"
