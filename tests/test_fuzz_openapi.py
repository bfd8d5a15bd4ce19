"""Schemathesis over the gateway's merged OpenAPI, authenticated, a bounded number of examples,
then the invariants no accepted request may break.

Every endpoint a later change adds is fuzzed here from its first day: no server error,
no response that breaks its declared schema, status code or content type.

The run writes with an administrator's token (on a platform and database of its own, which no
other test reads), so it is split in phases (one per service,
then the platform's own operations) and after each phase the invariants are checked:

- welfare: Panjin's standards answer as the pack and the spec say (2024-06-30 → 792.00,
  2024-07-01 → 800.00 and the derived amounts, the spec's calculation):
  ``welfare.standards.invariants.panjin_standards_problems``;
- eldercare: the city catalogue answers exactly as its pack (驻政办〔2023〕35号, the city's
  own catalogue is the pack; county overrides never change it);
- appraisal: the schemes still answer the spec's grading example
  (``appraisal.grading.example.grading_example_problems``).

A phase that breaks one fails the test naming the invariant, the phase and the requests of
that phase that were accepted and write (from its HAR report), one of which did it.

``FUZZ_OPERATIONS``: a file naming the operations to fuzz, one ``METHOD /path`` a line (to fuzz
the one being worked on, or to time the fuzzing of a given set); every operation without it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.encoders import jsonable_encoder

from appraisal.grading.example import grading_example_problems
from eldercare.catalogues.pack import load_city_catalogues
from eldercare.catalogues.service import EffectiveCatalogue, catalogue_read
from eldercare.config import SERVICE_ROOT as ELDERCARE_ROOT
from platformctl.database import data_dir
from platformctl.testing import Platform, platform_on_own_database
from shared.months import policy_today
from welfare.standards.invariants import panjin_standards_problems

MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "10")
LISTED_OPERATIONS = (
    Path(os.environ["FUZZ_OPERATIONS"]).read_text(encoding="utf-8")
    if os.environ.get("FUZZ_OPERATIONS")
    else None
)
SERVICES = ("welfare", "eldercare", "appraisal", "renewal")
PHASES: list[tuple[str, list[str]]] = [
    *((name, ["--include-path-regex", f"^/api/{name}/"]) for name in SERVICES),
    ("platform", ["--exclude-path-regex", f"^/api/({'|'.join(SERVICES)})/"]),
]
ELDERCARE_CITY = "411700"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


async def eldercare_catalogue_problems(platform: Platform, headers: dict[str, str]) -> list[str]:
    """The city catalogue as the service answers it, against its pack read here."""
    today = policy_today()
    city = load_city_catalogues(ELDERCARE_ROOT / "packs")[ELDERCARE_CITY].on(today)
    if city is None:
        return [f"the pack of {ELDERCARE_CITY} has no catalogue in force on {today}"]
    expected = jsonable_encoder(catalogue_read(EffectiveCatalogue(ELDERCARE_CITY, city, 0)))
    async with platform.client(headers=headers) as client:
        response = await client.get(
            f"/api/eldercare/v1/catalogues/{ELDERCARE_CITY}", params={"on": today.isoformat()}
        )
    if response.status_code != 200:
        return [
            f"GET the catalogue of {ELDERCARE_CITY} answered {response.status_code}: {response.text[:300]}"
        ]
    got = response.json()
    if got == expected:
        return []
    differing = sorted(key for key in set(got) | set(expected) if got.get(key) != expected.get(key))
    return [f"the catalogue of {ELDERCARE_CITY} differs from its pack in {differing}"]


async def invariant_problems(platform: Platform) -> dict[str, list[str]]:
    headers = await platform.admin_headers()
    async with platform.client(headers=headers) as client:
        welfare = await panjin_standards_problems(client=client)
        appraisal = await grading_example_problems(client=client)
    eldercare = await eldercare_catalogue_problems(platform, headers)
    found = {
        "welfare standards": welfare,
        "eldercare city catalogue": eldercare,
        "appraisal grading": appraisal,
    }
    return {name: problems for name, problems in found.items() if problems}


def accepted_writes(har: Path) -> list[str]:
    """The requests of a phase that were accepted (2xx) and write, in the order they were sent."""
    if not har.exists():
        return [f"(no HAR report at {har})"]
    entries: list[dict[str, Any]] = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    found = []
    for entry in entries:
        request, status = entry["request"], entry["response"]["status"]
        if request["method"] in WRITES and 200 <= status < 300:
            body = (request.get("postData") or {}).get("text", "")
            found.append(f"{request['method']} {request['url']} → {status} {body[:300]}")
    return found


def phase_of(operation: str) -> str:
    """The phase that fuzzes an operation ("GET /api/welfare/v1/standards" → welfare)."""
    path = operation.split(" ", 1)[-1]
    return next((name for name in SERVICES if path.startswith(f"/api/{name}/")), "platform")


def chosen_operations(name: str, listing: str) -> list[str]:
    """``--include-name`` options for the listed operations of phase ``name``. One operation alone
    has no other to follow a link to: its phase leaves out schemathesis' stateful part (which
    would end the run with "Missing Open API links")."""
    operations = [line.strip() for line in listing.splitlines() if line.strip() and not line.startswith("#")]
    chosen = [op for op in operations if phase_of(op) == name]
    options = [option for op in chosen for option in ("--include-name", op)]
    return [*options, "--phases", "examples,coverage,fuzzing"] if len(chosen) == 1 else options


def run_phase(platform: Platform, token: str, name: str, selection: list[str]) -> tuple[int, str, Path]:
    schemathesis = Path(sys.executable).with_name("st")
    folder = data_dir() / "schemathesis"
    folder.mkdir(parents=True, exist_ok=True)
    har = folder / f"{name}.har"
    har.unlink(missing_ok=True)
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
        "--report",
        "har",
        "--report-har-path",
        str(har),
        *selection,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    return result.returncode, result.stdout + result.stderr, har


@pytest.fixture(scope="module")
async def fuzzed(migrated_database: str) -> AsyncIterator[Platform]:
    """A platform on a database of its own: the fuzzing writes with an administrator's token
    (standards, catalogues, schemes of any jurisdiction), which the other tests of the session,
    on the shared platform, must never read."""
    async with platform_on_own_database(migrated_database, "fuzzing") as platform:
        yield platform


@pytest.mark.parametrize(("name", "selection"), PHASES, ids=[name for name, _ in PHASES])
async def test_every_operation_survives_fuzzing(fuzzed: Platform, name: str, selection: list[str]) -> None:
    """One phase; in one process the phases run in order on one platform, each checking the
    invariants before and after it; `make test`'s workers run them side by side, each on a
    platform of its own."""
    if LISTED_OPERATIONS is not None:
        selection = chosen_operations(name, LISTED_OPERATIONS)
        if not selection:
            pytest.skip(f"FUZZ_OPERATIONS lists no operation of phase {name}")
    before = await invariant_problems(fuzzed)
    assert not before, f"the invariants fail before phase {name}: {before}"
    token = (await fuzzed.admin_headers())["Authorization"]
    code, output, har = await asyncio.to_thread(run_phase, fuzzed, token, name, selection)
    report_file = data_dir() / f"schemathesis-{name}.txt"
    report_file.write_text(f"===== phase {name} (exit {code}) =====\n{output}", encoding="utf-8")
    broken = await invariant_problems(fuzzed)
    if broken:
        writes = accepted_writes(har)
        raise AssertionError(
            f"fuzzing phase {name} broke invariants: {json.dumps(broken, ensure_ascii=False, indent=1)}\n"
            f"one of its {len(writes)} accepted writes did it:\n" + "\n".join(writes[-200:])
        )
    assert code == 0, f"phase {name}: schemathesis failed (full report: {report_file})\n{output[-4000:]}"


def test_a_listing_of_operations_selects_each_in_its_own_phase() -> None:
    listing = (
        "# the ones at hand\nGET /api/welfare/v1/standards\n\nPOST /auth/token\nPOST /api/renewal/v1/plans\n"
    )
    alone = ["--phases", "examples,coverage,fuzzing"]
    assert chosen_operations("welfare", listing) == [
        "--include-name",
        "GET /api/welfare/v1/standards",
        *alone,
    ]
    assert chosen_operations("platform", listing) == ["--include-name", "POST /auth/token", *alone]
    assert chosen_operations("eldercare", listing) == []
    two = "POST /api/welfare/v1/households\nGET /api/welfare/v1/households/{household_id}\n"
    assert chosen_operations("welfare", two) == [
        "--include-name",
        "POST /api/welfare/v1/households",
        "--include-name",
        "GET /api/welfare/v1/households/{household_id}",
    ]
    assert [phase_of(f"GET /api/{name}/v1/x") for name in SERVICES] == list(SERVICES)


def test_a_broken_invariant_names_the_accepted_writes_of_its_phase(tmp_path: Path) -> None:
    """What the failure message lists: accepted writes only, in the order sent, with bodies."""

    def entry(method: str, url: str, status: int, body: str = "") -> dict[str, Any]:
        request: dict[str, Any] = {"method": method, "url": url}
        if body:
            request["postData"] = {"text": body}
        return {"request": request, "response": {"status": status}}

    har = tmp_path / "welfare.har"
    entries = [
        entry("GET", "http://gw/api/welfare/v1/standards?jurisdiction=211100&on=2024-06-15", 200),
        entry("POST", "http://gw/api/welfare/v1/standards/versions", 422, '{"version_id": "bad"}'),
        entry("POST", "http://gw/api/welfare/v1/standards/versions", 201, '{"version_id": "fuzz-2000"}'),
        entry("PUT", "http://gw/api/eldercare/v1/catalogues/411702/overrides", 200, "{}"),
    ]
    har.write_text(json.dumps({"log": {"entries": entries}}), encoding="utf-8")
    assert accepted_writes(har) == [
        'POST http://gw/api/welfare/v1/standards/versions → 201 {"version_id": "fuzz-2000"}',
        "PUT http://gw/api/eldercare/v1/catalogues/411702/overrides → 200 {}",
    ]
    assert accepted_writes(tmp_path / "missing.har") == [f"(no HAR report at {tmp_path / 'missing.har'})"]
