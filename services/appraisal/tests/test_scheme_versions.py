"""Scheme versions follow the platform's rule for dated data (issue: a back-dated version
erased history): history is append-only and explicit. A new version may supersede only an
open-ended version that started earlier; one that overlaps a closed range is refused, naming
the version it collides with, unless it is an explicit correction with a reason and a
document reference, which keeps the old ranges readable. A year is appraised under the
version in force on its last day."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from appraisal.config import Settings
from appraisal.main import create_app
from appraisal.schemes.history import Days
from appraisal.schemes.pack import load_histories
from platformctl.testing import assert_problem
from shared.errors import PackError
from shared.testing import TokenMint, app_client

PACKS = Path(__file__).resolve().parents[1] / "packs"
BASE = "/api/appraisal/v1"


def raw(name: str) -> dict[str, Any]:
    data = yaml.safe_load((PACKS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def version(
    number: int,
    valid_from: str,
    valid_to: str | None = None,
    *,
    corrects: list[int] | None = None,
    document: str | None = None,
) -> dict[str, Any]:
    """Panjin's pack as another version of the scheme."""
    data = copy.deepcopy(raw("panjin"))
    data["version"] = {
        **data["version"],
        "number": number,
        "valid_from": dt.date.fromisoformat(valid_from),
        "valid_to": None if valid_to is None else dt.date.fromisoformat(valid_to),
    }
    if document is not None:
        data["document"] = document
    if corrects is not None:
        data["version"]["correction"] = {
            "versions": corrects,
            "reason": "发文日期录入有误",
            "document_reference": "盘政办发〔2026〕9号",
        }
    return data


def packs(directory: Path, *versions: dict[str, Any]) -> Path:
    for data in versions:
        path = directory / f"panjin-v{data['version']['number']}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return directory


def refused(directory: Path, *versions: dict[str, Any]) -> PackError:
    with pytest.raises(PackError) as caught:
        load_histories(packs(directory, *versions))
    return caught.value


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_the_packs_are_first_versions_in_force_from_their_issue() -> None:
    histories = load_histories(PACKS)
    panjin, zhumadian = histories["panjin"], histories["zhumadian"]
    assert [(v.number, v.stated) for v in panjin.versions.values()] == [(1, Days(d("2024-06-26"), None))]
    assert panjin.versions[1].scheme.version.citation == "盘政办发〔2024〕5号 第十七条"
    assert zhumadian.versions[1].stated == Days(d("2023-12-11"), None)
    assert zhumadian.versions[1].scheme.version.citation == "驻政办〔2023〕36号 第二十条"
    assert panjin.for_year(2023) is None  # its last day, 2023-12-31, is before the issue
    assert panjin.for_year(2024) is panjin.versions[1]
    assert zhumadian.for_year(2023) is zhumadian.versions[1]


def test_a_new_open_ended_version_supersedes_the_open_ended_one(tmp_path: Path) -> None:
    history = load_histories(
        packs(tmp_path, version(1, "2024-06-26"), version(2, "2027-01-01", document="盘政办发〔2026〕1号"))
    )["panjin"]
    first, second = history.versions[1], history.versions[2]
    assert first.in_force == [Days(d("2024-06-26"), d("2026-12-31"))]
    assert first.stated == Days(d("2024-06-26"), None)  # the stated range stays readable
    assert (first.status, first.superseded_by, second.supersedes) == ("superseded", 2, 1)
    assert history.for_year(2026) is first
    assert history.for_year(2027) is second
    assert history.in_force(d("2026-12-31")) is first


@pytest.mark.parametrize(
    ("name", "first", "second", "field", "words"),
    [
        # the welfare incident, in appraisal terms: a one-day version inside an ended range
        (
            "back-dated one day inside an ended range",
            version(1, "2024-06-26", "2025-12-31"),
            version(2, "2025-01-01", "2025-01-01"),
            "version.valid_from",
            "version 1 has ended",
        ),
        (
            "back-dated open-ended over an ended range",
            version(1, "2024-06-26", "2025-12-31"),
            version(2, "2020-01-01"),
            "version.valid_from",
            "version 1 has ended",
        ),
        (
            "same start as the open-ended one",
            version(1, "2024-06-26"),
            version(2, "2024-06-26"),
            "version.valid_from",
            "started earlier",
        ),
        (
            "starts before the open-ended one",
            version(1, "2024-06-26"),
            version(2, "2024-01-01"),
            "version.valid_from",
            "started earlier",
        ),
        (
            "closed, would cut the open-ended one",
            version(1, "2024-06-26"),
            version(2, "2027-01-01", "2027-12-31"),
            "version.valid_from",
            "open-ended itself",
        ),
    ],
)
def test_a_version_that_rewrites_history_is_refused_naming_the_version(
    tmp_path: Path, name: str, first: dict[str, Any], second: dict[str, Any], field: str, words: str
) -> None:
    error = refused(tmp_path, first, second)
    assert (error.file, error.field) == ("panjin-v2.yaml", field)
    assert "collides with version 1 of panjin (盘政办发〔2024〕5号)" in error.problem
    assert words in error.problem


def test_a_version_filling_days_no_version_covers_is_recorded(tmp_path: Path) -> None:
    history = load_histories(
        packs(tmp_path, version(1, "2024-06-26", "2025-12-31"), version(2, "2027-01-01"))
    )["panjin"]
    assert history.in_force(d("2026-06-01")) is None
    assert history.for_year(2026) is None
    assert history.for_year(2027) is history.versions[2]


def test_a_correction_is_explicit_and_keeps_the_old_ranges_readable(tmp_path: Path) -> None:
    history = load_histories(
        packs(
            tmp_path,
            version(1, "2024-06-26", "2025-12-31"),
            version(2, "2026-01-01"),
            version(3, "2025-07-01", "2025-12-31", corrects=[1]),
        )
    )["panjin"]
    first, correction = history.versions[1], history.versions[3]
    assert first.stated == Days(d("2024-06-26"), d("2025-12-31"))
    assert first.in_force == [Days(d("2024-06-26"), d("2025-06-30"))]
    assert (first.status, first.corrected_by, correction.corrects) == ("corrected", [3], (1,))
    [change] = first.changes
    assert (change.correction, change.before, change.after) == (
        3,
        (Days(d("2024-06-26"), d("2025-12-31")),),
        (Days(d("2024-06-26"), d("2025-06-30")),),
    )
    assert correction.scheme.version.correction is not None
    assert correction.scheme.version.correction.reason == "发文日期录入有误"
    # a year opened under version 1 follows the correction in force on its last day
    assert history.of_year(2025, 1) is correction
    assert history.of_year(2024, 1) is first


def test_a_correction_names_every_version_it_overlaps(tmp_path: Path) -> None:
    error = refused(
        tmp_path,
        version(1, "2024-06-26", "2025-12-31"),
        version(2, "2026-01-01"),
        version(3, "2025-07-01", "2026-06-30", corrects=[1]),
    )
    assert (error.file, error.field) == ("panjin-v3.yaml", "version.correction.versions")
    assert "also overlaps version 2 of panjin" in error.problem


def test_a_correction_states_why_and_on_what_decision(tmp_path: Path) -> None:
    unexplained = version(2, "2025-01-01", "2025-01-31", corrects=[1])
    unexplained["version"]["correction"]["reason"] = ""
    error = refused(tmp_path, version(1, "2024-06-26", "2025-12-31"), unexplained)
    assert (error.file, error.field) == ("panjin-v2.yaml", "version.correction.reason")


@pytest.fixture
async def superseded(
    migrated_database: str, mint: TokenMint, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The service on Panjin's version 1 and a version 2 from 2127 (test data)."""
    packs(tmp_path, version(1, "2024-06-26"), version(2, "2127-01-01", document="盘政办发〔2126〕1号"))
    (tmp_path / "zhumadian.yaml").write_text((PACKS / "zhumadian.yaml").read_text(encoding="utf-8"))
    app = create_app(Settings(database_url=migrated_database, packs_dir=tmp_path))
    async with app_client(app, mint) as client:
        yield client


async def test_years_are_opened_under_the_version_in_force_on_their_last_day(
    superseded: httpx.AsyncClient, mint: TokenMint
) -> None:
    headers = mint.headers(
        scopes=["appraisal:read", "appraisal:write"], jurisdictions=["211100"], subject="pj"
    )
    before = await superseded.post(f"{BASE}/years", json={"scheme": "panjin", "year": 2126}, headers=headers)
    assert before.status_code == 201, before.text
    assert (before.json()["scheme_version"], before.json()["document"]) == (1, "盘政办发〔2024〕5号")
    after = await superseded.post(f"{BASE}/years", json={"scheme": "panjin", "year": 2127}, headers=headers)
    assert after.status_code == 201, after.text
    assert (after.json()["scheme_version"], after.json()["document"]) == (2, "盘政办发〔2126〕1号")
    history = await superseded.get(f"{BASE}/schemes/panjin/versions", headers=headers)
    assert history.status_code == 200, history.text
    [first, second] = history.json()["items"]
    assert (first["status"], first["superseded_by"], first["valid_to"]) == ("superseded", 2, None)
    assert first["in_force"] == [{"valid_from": "2024-06-26", "valid_to": "2126-12-31"}]
    assert (second["status"], second["supersedes"]) == ("in_force", 1)
    full = await superseded.get(f"{BASE}/schemes/panjin/versions/1", headers=headers)
    assert full.json()["version"]["valid_from"] == "2024-06-26"
    assert_problem(await superseded.get(f"{BASE}/schemes/panjin/versions/3", headers=headers), 404)


async def test_a_year_no_version_covers_is_refused_naming_the_versions(
    migrated_database: str, mint: TokenMint
) -> None:
    app = create_app(Settings(database_url=migrated_database))
    headers = mint.headers(
        scopes=["appraisal:read", "appraisal:write"], jurisdictions=["211100"], subject="pj"
    )
    async with app_client(app, mint) as client:
        answer = await client.post(f"{BASE}/years", json={"scheme": "panjin", "year": 2023}, headers=headers)
        problem = assert_problem(answer, 409)
        assert problem["detail"] == (
            "No version of the scheme panjin is in force on the last day of 2023 "
            "(version 1 of panjin (盘政办发〔2024〕5号): 2024-06-26 to open-ended)."
        )
        assert problem["versions"] == [1]
        versions = (await client.get(f"{BASE}/schemes/panjin/versions", headers=headers)).json()["items"]
        assert [(v["version"], v["status"], v["valid_from"]) for v in versions] == [
            (1, "in_force", "2024-06-26")
        ]


async def test_a_pack_folder_that_rewrites_history_stops_the_start(
    migrated_database: str, mint: TokenMint, tmp_path: Path
) -> None:
    packs(tmp_path, version(1, "2024-06-26", "2025-12-31"), version(2, "2025-01-01", "2025-01-01"))
    app = create_app(Settings(database_url=migrated_database, packs_dir=tmp_path))
    with pytest.raises(PackError) as caught:
        async with app_client(app, mint):
            pass
    assert (caught.value.file, caught.value.field) == ("panjin-v2.yaml", "version.valid_from")
