"""The appraisal scheme packs: contents from the sources, and the loader's checks."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from appraisal.grading.schemas import GradingRequest
from appraisal.grading.scoring import grade_subjects
from appraisal.interpretations import AppraisalInterpretations
from appraisal.schemes.pack import Scheme, load_scheme, load_schemes
from appraisal.workflow.states import STAGES
from shared.errors import InvalidInput, PackError

PACKS = Path(__file__).resolve().parents[1] / "packs"


@pytest.fixture(scope="module")
def schemes() -> dict[str, Scheme]:
    return load_schemes(PACKS)


def raw(name: str) -> dict[str, Any]:
    data = yaml.safe_load((PACKS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(directory: Path, name: str, data: dict[str, Any]) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def citations(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key.endswith("citation") and value is not None:
                yield where, value
            else:
                yield from citations(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from citations(value, f"{path}.{index}")


# --- contents ---------------------------------------------------------------------------


def test_both_cities_are_loaded_with_their_documents(schemes: dict[str, Scheme]) -> None:
    assert sorted(schemes) == ["panjin", "zhumadian"]
    assert schemes["panjin"].city == "211100"
    assert schemes["panjin"].document == "盘政办发〔2024〕5号"
    assert schemes["zhumadian"].city == "411700"
    assert schemes["zhumadian"].document == "驻政办〔2023〕36号"


@pytest.mark.parametrize("name", ["panjin", "zhumadian"])
def test_every_citation_names_the_document(schemes: dict[str, Scheme], name: str) -> None:
    scheme = schemes[name]
    found = list(citations(scheme.model_dump(mode="json")))
    assert len(found) > 40
    for where, citation in found:
        assert citation.startswith(scheme.document), where


def test_panjin_caps(schemes: dict[str, Scheme]) -> None:
    caps = schemes["panjin"].score.caps
    assert caps.base.max == Decimal(100)
    assert caps.ad_hoc.max == Decimal(15)
    assert caps.bonus.max == Decimal(5)
    assert caps.deductions.max is None
    assert caps.deductions.set_by_year is True
    assert caps.ad_hoc.citation.startswith("盘政办发〔2024〕5号 第八条")


def test_zhumadian_ad_hoc_cap_is_left_to_the_year(schemes: dict[str, Scheme]) -> None:
    caps = schemes["zhumadian"].score.caps
    assert caps.base.max == Decimal(100)
    assert caps.bonus.max == Decimal(5)
    assert caps.ad_hoc.max is None
    assert caps.ad_hoc.set_by_year is True
    assert caps.ad_hoc.citation == "驻政办〔2023〕36号 第八条"


def test_year_caps_only_where_the_source_leaves_them(schemes: dict[str, Scheme]) -> None:
    zhumadian = schemes["zhumadian"].with_year_caps(ad_hoc=Decimal(10))
    assert zhumadian.score.caps.ad_hoc.max == Decimal(10)
    assert schemes["zhumadian"].score.caps.ad_hoc.max is None  # the loaded scheme is unchanged
    panjin = schemes["panjin"].with_year_caps(ad_hoc=Decimal(12))
    assert panjin.score.caps.ad_hoc.max == Decimal(12)
    with pytest.raises(InvalidInput) as above:
        schemes["panjin"].with_year_caps(ad_hoc=Decimal("15.5"))
    assert above.value.errors == [
        {
            "field": "body.ad_hoc_cap",
            "message": "must not exceed 15 (盘政办发〔2024〕5号 第八条；附件 考核内容要点 序号4、说明2)",
        }
    ]
    with pytest.raises(InvalidInput):
        schemes["zhumadian"].with_year_caps(deductions=Decimal(-1))


def test_grade_bands(schemes: dict[str, Scheme]) -> None:
    panjin = [(b.grade, b.from_rank, b.to_rank) for b in schemes["panjin"].grades.bands]
    assert panjin == [("A", 1, 2), ("B", 3, 4), (None, 5, None)]
    assert schemes["panjin"].grades.bands[2].interpretation == "rank_beyond_bands_grade"
    zhumadian = [(b.grade, b.from_rank, b.to_rank) for b in schemes["zhumadian"].grades.bands]
    assert zhumadian == [("A", 1, 4), ("B", 5, None)]
    for scheme in schemes.values():
        assert scheme.grades.downgrade.floor == "C"
        assert scheme.grades.veto.grade == "D"
    assert schemes["panjin"].grades.downgrade.citation == "盘政办发〔2024〕5号 第八条（三）"
    assert schemes["zhumadian"].grades.veto.citation == "驻政办〔2023〕36号 第十一条"


def test_panjin_circumstances(schemes: dict[str, Scheme]) -> None:
    scheme = schemes["panjin"]
    assert [c.id for c in scheme.downgrade_circumstances] == [f"panjin-8-3-{n}" for n in range(1, 12)]
    assert [c.id for c in scheme.veto_circumstances] == [f"panjin-8-4-{n}" for n in range(1, 6)]
    first = scheme.downgrade_circumstances[0]
    assert first.text == "本行政区域内发生重大食品安全事故，或连续发生较大食品安全事故的"
    assert first.citation == "盘政办发〔2024〕5号 第八条（三）1"
    fraud = [c for c in scheme.downgrade_circumstances if c.fraud]
    assert [(c.id, c.citation) for c in fraud] == [("panjin-8-3-9", "盘政办发〔2024〕5号 第八条（三）9")]
    assert scheme.veto_circumstances[2].text == "各县区政府或其相关部门隐瞒、谎报、缓报食品安全事故的"
    assert scheme.veto_circumstances[4].citation == "盘政办发〔2024〕5号 第八条（四）5"


def test_zhumadian_circumstances(schemes: dict[str, Scheme]) -> None:
    scheme = schemes["zhumadian"]
    assert [c.citation for c in scheme.downgrade_circumstances] == [
        f"驻政办〔2023〕36号 第十条（{n}）" for n in "一二三四五六七八"
    ]
    assert [c.citation for c in scheme.veto_circumstances] == [
        f"驻政办〔2023〕36号 第十一条（{n}）" for n in "一二三四五"
    ]
    assert [c.id for c in scheme.downgrade_circumstances if c.fraud] == ["zhumadian-10-7"]
    assert scheme.veto_circumstances[0].text == (
        "本行政区域内发生重大及以上食品安全事故，或者连续发生较大食品安全事故的"
    )
    assert scheme.circumstance("zhumadian-11-3") is scheme.veto_circumstances[2]
    assert scheme.circumstance("panjin-8-3-1") is None


def test_subjects_and_zones(schemes: dict[str, Scheme]) -> None:
    panjin, zhumadian = schemes["panjin"], schemes["zhumadian"]
    assert [k.kind for k in panjin.subjects] == ["county_government"]
    assert panjin.zones.ranked is False
    assert panjin.zones.citation == "盘政办发〔2024〕5号 第三条"
    assert [k.kind for k in zhumadian.subjects] == [
        "county_government",
        "zone_committee",
        "member_department",
    ]
    assert [k.ranked for k in zhumadian.subjects] == [True, False, False]
    assert zhumadian.zones.ranked is False
    assert zhumadian.zones.citation == "驻政办〔2023〕36号 第十三条"


def test_deadlines_periods_and_interviews(schemes: dict[str, Scheme]) -> None:
    panjin, zhumadian = schemes["panjin"], schemes["zhumadian"]
    assert [(d.document, d.deadline) for d in panjin.rules_publication] == [("detailed_rules", "08-15")]
    assert [(d.document, d.deadline) for d in zhumadian.rules_publication] == [
        ("detailed_rules", "08-31"),
        ("plan", "11-30"),
    ]
    assert panjin.rectification.period_months == 1
    assert panjin.rectification.citation == "盘政办发〔2024〕5号 第十一条"
    assert zhumadian.rectification.citation == "驻政办〔2023〕36号 第十四条"
    assert panjin.carry_back is not None
    assert panjin.carry_back.citation == "盘政办发〔2024〕5号 第九条"
    assert zhumadian.carry_back is not None
    assert zhumadian.carry_back.citation == "驻政办〔2023〕36号 第十二条"
    assert (panjin.interviews.leaders.last_places, panjin.interviews.leaders.consecutive_years) == (
        1,
        3,
    )
    assert zhumadian.interviews.leaders.last_places == 3
    assert zhumadian.interviews.leaders.citation == "驻政办〔2023〕36号 第十七条第一款"
    assert panjin.commendations.grade_citation == "盘政办发〔2024〕5号 第十三条（一）"
    assert zhumadian.commendations.grade_citation == "驻政办〔2023〕36号 第十六条（一）"
    assert panjin.double_counting is not None
    assert panjin.double_counting.multiplier == 2
    assert zhumadian.double_counting is None


def test_workflow_stages_follow_article_7(schemes: dict[str, Scheme]) -> None:
    for scheme in schemes.values():
        assert scheme.stage_order() == STAGES
    assert [s.name for s in schemes["zhumadian"].workflow][1] == "年中督促"
    assert schemes["panjin"].workflow[3].citation == "盘政办发〔2024〕5号 第七条（四）"


def test_panjin_annex_content_areas(schemes: dict[str, Scheme]) -> None:
    areas = schemes["panjin"].content_areas
    assert [(a.number, a.name, a.component) for a in areas] == [
        (1, "食品安全基础工作", "base"),
        (2, "食品安全年度重点工作", "base"),
        (3, "食品安全状况", "base"),
        (4, "即时性工作", "ad_hoc"),
        (5, "加分项", "bonus"),
        (6, "减分项", "deductions"),
    ]
    assert "予以双倍加分" in areas[4].key_points
    assert "予以双倍减分" in areas[5].key_points


# --- checks -----------------------------------------------------------------------------


def broken(tmp_path: Path, change: Callable[[dict[str, Any]], None], name: str = "panjin") -> PackError:
    data = copy.deepcopy(raw(name))
    change(data)
    write(tmp_path, name, data)
    with pytest.raises(PackError) as caught:
        load_schemes(tmp_path)
    return caught.value


def test_a_gap_in_the_bands_is_refused(tmp_path: Path) -> None:
    def gap(data: dict[str, Any]) -> None:
        data["grades"]["bands"][1]["from_rank"] = 4

    error = broken(tmp_path, gap)
    assert (error.file, error.field) == ("panjin.yaml", "grades.bands.1.from_rank")
    assert error.problem == "rank 3 has no band (gap)"


def test_overlapping_bands_are_refused(tmp_path: Path) -> None:
    def overlap(data: dict[str, Any]) -> None:
        data["grades"]["bands"][1]["from_rank"] = 2

    error = broken(tmp_path, overlap)
    assert error.field == "grades.bands.1.from_rank"
    assert "overlaps the previous band" in error.problem


def test_the_last_band_must_be_open_ended(tmp_path: Path) -> None:
    def closed(data: dict[str, Any]) -> None:
        data["grades"]["bands"][1]["to_rank"] = 10

    error = broken(tmp_path, closed, "zhumadian")
    assert (error.file, error.field) == ("zhumadian.yaml", "grades.bands.1.to_rank")
    assert error.problem.startswith("ranks from 11 have no band")


def test_bands_must_start_at_rank_one(tmp_path: Path) -> None:
    def late(data: dict[str, Any]) -> None:
        data["grades"]["bands"][0]["from_rank"] = 2

    error = broken(tmp_path, late, "zhumadian")
    assert (error.field, error.problem) == ("grades.bands.0.from_rank", "rank 1 has no band (gap)")


def test_a_band_interpretation_must_be_known(tmp_path: Path) -> None:
    def unknown(data: dict[str, Any]) -> None:
        data["grades"]["bands"][2]["interpretation"] = "fifth_place_is_b"

    error = broken(tmp_path, unknown)
    assert error.field == "grades.bands.2.interpretation"
    assert "unknown interpretation 'fifth_place_is_b'" in error.problem


def test_a_band_needs_a_grade_or_an_interpretation(tmp_path: Path) -> None:
    def neither(data: dict[str, Any]) -> None:
        data["grades"]["bands"][2]["interpretation"] = None

    error = broken(tmp_path, neither)
    assert (error.field, error.problem) == (
        "grades.bands.2.grade",
        "needs a grade or an interpretation",
    )


def test_duplicate_circumstance_ids_are_refused(tmp_path: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        data["veto_circumstances"][3]["id"] = "panjin-8-3-5"

    error = broken(tmp_path, duplicate)
    assert (error.file, error.field) == ("panjin.yaml", "veto_circumstances.3.id")
    assert error.problem == ("duplicate circumstance id 'panjin-8-3-5' (downgrade_circumstances.4.id)")


def test_a_negative_cap_is_refused(tmp_path: Path) -> None:
    def negative(data: dict[str, Any]) -> None:
        data["score"]["caps"]["bonus"]["max"] = -5

    error = broken(tmp_path, negative)
    assert error.field == "score.caps.bonus.max"
    assert "greater than or equal to 0" in error.problem


def test_an_open_cap_must_be_left_to_the_year(tmp_path: Path) -> None:
    def open_cap(data: dict[str, Any]) -> None:
        data["score"]["caps"]["bonus"]["max"] = None

    error = broken(tmp_path, open_cap, "zhumadian")
    assert error.field == "score.caps.bonus.max"
    assert error.problem.startswith("null (no cap) only when set_by_year is true")


def test_a_missing_citation_is_refused(tmp_path: Path) -> None:
    def missing(data: dict[str, Any]) -> None:
        del data["downgrade_circumstances"][2]["citation"]

    error = broken(tmp_path, missing)
    assert (error.field, error.problem) == ("downgrade_circumstances.2.citation", "Field required")


def test_a_blank_citation_is_refused(tmp_path: Path) -> None:
    def blank(data: dict[str, Any]) -> None:
        data["interviews"]["leaders"]["citation"] = "  "

    error = broken(tmp_path, blank, "zhumadian")
    assert error.field == "interviews.leaders.citation"
    assert "a citation (document number and article) is required" in error.problem


def test_an_impossible_deadline_is_refused(tmp_path: Path) -> None:
    def impossible(data: dict[str, Any]) -> None:
        data["rules_publication"][0]["deadline"] = "02-29"

    error = broken(tmp_path, impossible)
    assert error.field == "rules_publication.0.deadline"
    assert "02-29 is not a day that every year has" in error.problem


def test_a_misspelt_field_is_refused(tmp_path: Path) -> None:
    def typo(data: dict[str, Any]) -> None:
        data["grades"]["vetoo"] = data["grades"]["veto"]

    error = broken(tmp_path, typo)
    assert error.field == "grades.vetoo"
    assert "Extra inputs are not permitted" in error.problem


def test_the_workflow_must_end_with_publication_and_rectification(tmp_path: Path) -> None:
    def no_publication(data: dict[str, Any]) -> None:
        del data["workflow"][6]

    error = broken(tmp_path, no_publication)
    assert error.field == "workflow"
    assert error.problem.startswith("must end with comprehensive_evaluation, published, rectification")


def test_zone_subjects_must_agree_with_the_zone_rule(tmp_path: Path) -> None:
    def ranked_zone(data: dict[str, Any]) -> None:
        data["subjects"][1]["ranked"] = True

    error = broken(tmp_path, ranked_zone, "zhumadian")
    assert (error.field, error.problem) == (
        "subjects.1.ranked",
        "must agree with zones.ranked (False)",
    )


def test_a_version_of_a_scheme_may_appear_once(tmp_path: Path) -> None:
    write(tmp_path, "panjin", raw("panjin"))
    write(tmp_path, "panjin-copy", raw("panjin"))
    with pytest.raises(PackError) as caught:
        load_schemes(tmp_path)
    assert (caught.value.file, caught.value.field) == ("panjin.yaml", "version.number")
    assert caught.value.problem == "scheme version panjin 1 is also defined in panjin-copy.yaml"


def test_invalid_yaml_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="no scheme version files"):
        load_schemes(tmp_path)
    (tmp_path / "bad.yaml").write_text("scheme: [unclosed\n", encoding="utf-8")
    with pytest.raises(PackError, match="not valid YAML"):
        load_schemes(tmp_path)


def test_a_third_city_needs_only_a_pack_file(tmp_path: Path) -> None:
    data = copy.deepcopy(raw("zhumadian"))
    data["scheme"] = "thirdcity"
    data["city"] = "999900"
    data["grades"]["bands"] = [
        {"grade": "A", "from_rank": 1, "to_rank": 1, "text": "第1名", "citation": "X 第九条"},
        {"grade": "B", "from_rank": 2, "to_rank": 3, "text": "第2–3名", "citation": "X 第九条"},
        {"grade": "C", "from_rank": 4, "to_rank": None, "text": "其后", "citation": "X 第九条"},
    ]
    path = write(tmp_path, "thirdcity", data)
    scheme = load_scheme(path)
    body = {
        "scheme": "thirdcity",
        "subjects": [{"id": f"99990{n}", "base": 90 - n} for n in range(1, 6)],
    }
    answer = grade_subjects(
        GradingRequest.model_validate_json(json.dumps(body)),
        {"thirdcity": scheme},
        AppraisalInterpretations(),
    )
    assert [(r.rank, r.grade) for r in answer.results] == [
        (1, "A"),
        (2, "B"),
        (3, "B"),
        (4, "C"),
        (5, "C"),
    ]
