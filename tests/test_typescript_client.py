"""A real consumer of the merged OpenAPI: a TypeScript client generated with openapi-typescript
and type-checked with tsc (strict), including calls that must NOT compile."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from platformctl.database import data_dir
from platformctl.testing import Platform

PACKAGE = {
    "name": "civic-platform-client-check",
    "private": True,
    "devDependencies": {"openapi-typescript": "7.13.0", "openapi-fetch": "0.17.0", "typescript": "^5.9.0"},
}
CLIENT = """
import createClient from "openapi-fetch";
import type { paths, components } from "./schema";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8000" });

export async function calculate(): Promise<string | undefined> {
  const { data, error } = await client.POST("/api/welfare/v1/calculations", {
    body: { program: "dibao", jurisdiction: "211100", month: "2024-08", household_size: 3, per_capita_income: "500.00" },
  });
  if (error) {
    const problem: components["schemas"]["Problem"] = error;
    return problem.detail;
  }
  return data?.amount;
}

export async function tasks(): Promise<number | undefined> {
  const { data } = await client.GET("/api/renewal/v1/plans/{plan_id}/tasks/{number}", {
    params: { path: { plan_id: "panjin-2024-equipment-renewal", number: 11 } },
  });
  return data?.responsible_leader?.name.length;
}

export async function wrong(): Promise<void> {
  await client.POST("/api/welfare/v1/calculations", {
    // @ts-expect-error household_size is a number, not a string
    body: { program: "dibao", jurisdiction: "211100", month: "2024-08", household_size: "3", per_capita_income: "500.00" },
  });
  // @ts-expect-error no such path
  await client.GET("/api/welfare/v1/no-such-thing");
}
"""
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "ES2022",
        "module": "ESNext",
        "moduleResolution": "Bundler",
        "skipLibCheck": True,
        "lib": ["ES2022", "DOM"],
    },
    "files": ["client.ts"],
}


def npm_registry_answers(npm: str) -> bool:
    """Whether npm's registry (or the mirror npm is configured with) answers within seconds."""
    try:
        result = subprocess.run(
            [npm, "ping", "--fetch-timeout=8000", "--fetch-retries=0"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


async def test_generated_typescript_client_type_checks(platform: Platform, tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip("Node.js and npm are not installed: the TypeScript client check needs them")
    cache = data_dir() / "npm-cache"
    if not (cache / "_cacache").exists() and not npm_registry_answers(npm):
        pytest.skip(
            "npm's registry does not answer and no npm cache is kept under .data/npm-cache: the "
            "TypeScript client check installs openapi-typescript and tsc from it"
        )
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
    (tmp_path / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "package.json").write_text(json.dumps(PACKAGE), encoding="utf-8")
    (tmp_path / "tsconfig.json").write_text(json.dumps(TSCONFIG), encoding="utf-8")
    (tmp_path / "client.ts").write_text(CLIENT, encoding="utf-8")
    run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--cache", str(cache)], tmp_path)
    run(
        [str(tmp_path / "node_modules/.bin/openapi-typescript"), "openapi.json", "-o", "schema.d.ts"],
        tmp_path,
    )
    run([str(tmp_path / "node_modules/.bin/tsc"), "-p", "tsconfig.json"], tmp_path)
