"""City catalogue versions under the rule for dated data: each pack file is a numbered version of
a city's list, valid over days; a new version supersedes only the open-ended one that started
earlier, anything else that overlaps stops the start naming the version it collides with, and a
correction names what it corrects with a reason and a document reference."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from eldercare.catalogues.pack import load_city_catalogues
from eldercare.catalogues.service import CatalogueLibrary
from eldercare.interpretations import EldercareInterpretations
from shared.errors import NotFound, PackError

PACK = (Path(__file__).resolve().parents[1] / "packs" / "411700-zhumadian.yaml").read_text(encoding="utf-8")
V1 = """validity:
  number: 1
  valid_from: 2023-12-08
  valid_to: null
"""


def version(number: int, valid_from: str, valid_to: str | None, name: str, correction: str = "") -> str:
    block = (
        f"validity:\n  number: {number}\n  valid_from: {valid_from}\n"
        f"  valid_to: {valid_to if valid_to else 'null'}\n"
    )
    assert V1 in PACK
    return PACK.replace(V1, block + correction).replace("name: 驻马店市基本养老服务清单", f"name: {name}", 1)


def write(folder: Path, **files: str) -> Path:
    for stem, text in files.items():
        (folder / f"411700-{stem}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_a_new_version_supersedes_the_open_one(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        a=version(1, "2023-12-08", None, "第一版"),
        b=version(2, "2025-01-01", None, "第二版"),
    )
    cities = load_city_catalogues(folder)
    city = cities["411700"]
    assert city.history.versions[1].superseded_by == 2
    assert [str(d) for d in city.history.versions[1].in_force] == ["2023-12-08 to 2024-12-31"]
    library = CatalogueLibrary(cities, EldercareInterpretations())
    assert library.require_city_on("411702", dt.date(2024, 6, 1)).name == "第一版"
    assert library.require_city_on("411702", dt.date(2025, 2, 1)).name == "第二版"
    latest = library.city_of("411702")
    assert latest is not None
    assert latest.name == "第二版"
    with pytest.raises(NotFound) as caught:
        library.require_city_on("411702", dt.date(2023, 12, 7))
    assert "version 1: 2023-12-08 to 2024-12-31" in caught.value.detail


def test_a_version_inside_an_ended_range_stops_the_start(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        a=version(1, "2023-12-08", "2024-12-31", "第一版"),
        b=version(2, "2024-06-01", "2024-06-01", "一日版"),
    )
    with pytest.raises(PackError) as caught:
        load_city_catalogues(folder)
    assert caught.value.field == "validity.valid_from"
    assert "collides with version 1 of the catalogue of 411700" in str(caught.value)
    assert "history is append-only" in str(caught.value)


def test_the_same_start_day_stops_the_start(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        a=version(1, "2023-12-08", None, "第一版"),
        b=version(2, "2023-12-08", None, "第二版"),
    )
    with pytest.raises(PackError) as caught:
        load_city_catalogues(folder)
    assert "may supersede only an open-ended version that started earlier" in str(caught.value)


def test_a_correction_names_what_it_corrects(tmp_path: Path) -> None:
    correction = "  correction:\n    versions: [1]\n    reason: 六月的标准印错\n    document_reference: 驻政办〔2024〕99号\n"
    folder = write(
        tmp_path,
        a=version(1, "2023-12-08", None, "第一版"),
        b=version(2, "2024-06-01", "2024-06-30", "更正版", correction),
    )
    city = load_city_catalogues(folder)["411700"]
    first = city.history.versions[1]
    assert first.status == "corrected"
    assert [str(d) for d in first.in_force] == ["2023-12-08 to 2024-05-31", "2024-07-01 to open-ended"]
    corrected, restored = city.on(dt.date(2024, 6, 15)), city.on(dt.date(2024, 7, 1))
    assert corrected is not None
    assert corrected.name == "更正版"
    assert restored is not None
    assert restored.name == "第一版"


def test_two_files_with_one_number_stop_the_start(tmp_path: Path) -> None:
    folder = write(tmp_path, a=version(1, "2023-12-08", None, "甲"), b=version(1, "2025-01-01", None, "乙"))
    with pytest.raises(PackError) as caught:
        load_city_catalogues(folder)
    assert caught.value.field == "validity.number"
