"""Schemathesis over the gateway's merged OpenAPI, authenticated, a bounded number of examples.

Every endpoint a later change adds is fuzzed here from its first day: no server error,
no response that breaks its declared schema, status code or content type.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from platformctl.database import data_dir
from platformctl.testing import Platform

MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "10")


async def test_every_operation_survives_fuzzing(platform: Platform) -> None:
    token = (await platform.admin_headers())["Authorization"]
    schemathesis = Path(sys.executable).with_name("st")
    command = [
        str(schemathesis),
        "run",
        f"{platform.url}/openapi.json",
        "--url",
        platform.url,
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--header",
        f"Authorization: {token}",
        "--generation-deterministic",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)  # noqa: ASYNC221
    report_file = data_dir() / "schemathesis-report.txt"
    report_file.parent.mkdir(parents=True, exist_ok=True)
    report_file.write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, f"full report: {report_file}\n" + result.stdout[-6000:]
