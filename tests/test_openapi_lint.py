"""The lint gate: Spectral (``spectral:oas``) and Redocly CLI (``recommended``) over the merged
OpenAPI document, with 0 errors and 0 warnings (waivers, each with its reason, in
``.spectral.yaml`` and ``redocly.yaml`` at the repository's root)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from platformctl.database import data_dir
from platformctl.testing import Platform

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = {
    "name": "civic-platform-openapi-lint",
    "private": True,
    "devDependencies": {"@redocly/cli": "2.77.0", "@stoplight/spectral-cli": "6.16.3"},
}


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


async def test_spectral_and_redocly_find_nothing_in_the_merged_document(
    platform: Platform, tmp_path: Path
) -> None:
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip("Node.js and npm are not installed: the OpenAPI lint gate needs them")
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
    assert "x-unavailable-services" not in document
    (tmp_path / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "package.json").write_text(json.dumps(PACKAGE), encoding="utf-8")
    shutil.copy(ROOT / ".spectral.yaml", tmp_path / ".spectral.yaml")
    shutil.copy(ROOT / "redocly.yaml", tmp_path / "redocly.yaml")
    cache = data_dir() / "npm-cache"
    installed = run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--cache", str(cache)], tmp_path
    )
    assert installed.returncode == 0, installed.stderr[-4000:]
    bin_dir = tmp_path / "node_modules/.bin"

    spectral = run(
        [
            str(bin_dir / "spectral"),
            "lint",
            "openapi.json",
            "--ruleset",
            ".spectral.yaml",
            "-f",
            "json",
            "-q",
        ],
        tmp_path,
    )
    assert spectral.returncode == 0, spectral.stdout[-4000:] + spectral.stderr[-4000:]
    findings = json.loads(spectral.stdout or "[]")
    severities = {0: "error", 1: "warning", 2: "info", 3: "hint"}
    problems = [f"{severities[f['severity']]} {f['code']} {'.'.join(map(str, f['path']))}" for f in findings]
    assert [p for p in problems if p.startswith(("error", "warning"))] == [], spectral.stderr[-2000:]

    redocly = run(
        [str(bin_dir / "redocly"), "lint", "openapi.json", "--config", "redocly.yaml", "--format", "json"],
        tmp_path,
    )
    report = json.loads(redocly.stdout[redocly.stdout.index("{") :])
    totals = report["totals"]
    assert (totals["errors"], totals["warnings"]) == (0, 0), [
        (problem["severity"], problem["ruleId"], problem["message"]) for problem in report["problems"]
    ]
