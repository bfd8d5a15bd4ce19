"""The jurisdiction registry: GB/T 2260 as data (with retired codes), the zone overlay, the
input type, and scope checks that stay cheap for a platform-wide caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import String, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platformctl.testing import assert_problem
from shared.access import JurisdictionFilter, filtered_to, in_scope, load_in_scope, within_scope
from shared.auth import ALL_JURISDICTIONS, CurrentPrincipal, Principal
from shared.db import SessionDep, service_metadata
from shared.errors import PackError
from shared.jurisdictions import (
    CODES_FILE,
    JurisdictionCode,
    JurisdictionEntry,
    JurisdictionRegistry,
    load_registry,
    registry,
)
from shared.jurisdictions.build import Row, SourceRow, build, county_kind, successors_at_retirement
from shared.records import PlatformTables
from shared.service_app import create_service_app
from shared.settings import ServiceSettings, async_database_url
from shared.testing import TokenMint, app_client

PANJIN = ["211100", "211102", "211103", "211104", "211122", "211100-Z01", "211100-Z02"]
ZHUMADIAN = [
    "411700",
    *(f"4117{n:02d}" for n in (2, *range(21, 30))),
    "411700-Z01",
    "411700-Z02",
    "411700-Z03",
]
# 石家庄市: its districts, its counties, and its county-level cities (辛集, 晋州, 新乐)
SHIJIAZHUANG = [
    "130100",
    *(f"1301{n:02d}" for n in (2, 4, 5, 7, 8, 9, 10, 11)),
    *(f"1301{n:02d}" for n in (21, 23, *range(25, 34))),
    *(f"1301{n:02d}" for n in (81, 83, 84)),
]


def who(*jurisdictions: str) -> Principal:
    return Principal(subject="t", roles=frozenset(), scopes=frozenset(), jurisdictions=jurisdictions)


# --- the data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("city", "expected"), [("211100", PANJIN), ("411700", ZHUMADIAN), ("130100", SHIJIAZHUANG)]
)
def test_every_county_of_a_city_in_order_with_its_zones_last(city: str, expected: list[str]) -> None:
    assert registry().subtree(city) == expected


@pytest.mark.parametrize(
    ("code", "name", "kind", "parent", "ancestors"),
    [
        ("210000", "辽宁省", "province", None, ["210000"]),
        ("211100", "盘锦市", "city", "210000", ["211100", "210000"]),
        ("211104", "大洼区", "district", "211100", ["211104", "211100", "210000"]),
        ("211122", "盘山县", "county", "211100", ["211122", "211100", "210000"]),
        ("411729", "新蔡县", "county", "411700", ["411729", "411700", "410000"]),
        ("130100", "石家庄市", "city", "130000", ["130100", "130000"]),
        ("130107", "井陉矿区", "district", "130100", ["130107", "130100", "130000"]),
        ("130181", "辛集市", "county", "130100", ["130181", "130100", "130000"]),  # 县级市
        ("110105", "朝阳区", "district", "110000", ["110105", "110000"]),  # a municipality's district
        ("419001", "济源市", "county", "410000", ["419001", "410000"]),  # governed by the province
        ("429021", "神农架林区", "county", "420000", ["429021", "420000"]),  # 林区, not a district
        ("520203", "六枝特区", "county", "520200", ["520203", "520200", "520000"]),  # 特区
        ("411700-Z01", "城乡一体化示范区", "zone", "411700", ["411700-Z01", "411700", "410000"]),
    ],
)
def test_codes_names_kinds_and_ancestors(
    code: str, name: str, kind: str, parent: str | None, ancestors: list[str]
) -> None:
    place = registry().require(code)
    assert (place.name, place.kind, place.parent, place.in_use) == (name, kind, parent, True)
    assert registry().ancestors_and_self(code) == ancestors
    assert place.city == (code if kind in ("province", "city") else parent)


def test_the_data_names_its_source_and_date_and_covers_the_country() -> None:
    codes = registry()
    assert "yescallop/areacodes" in codes.about["source"]
    assert codes.about["as-of"] == "2024-12-31"
    in_use = codes.all()
    assert sum(p.kind == "province" for p in in_use) == 34
    assert sum(p.kind == "city" for p in in_use) == 333
    assert sum(p.kind in ("district", "county") for p in in_use) == 2846
    assert sum(p.kind == "zone" for p in in_use) == 5
    retired = [p for p in codes.all(retired=True) if not p.in_use]
    assert len(retired) > 3000
    # a code in use never hangs below a retired one, and every successor is known
    assert all(codes.in_use(p.parent) for p in in_use if p.parent)
    assert all(s in codes for p in retired for s in p.successors)


@pytest.mark.parametrize(
    ("code", "name", "year", "successors", "now"),
    [
        ("211121", "大洼县", 2016, ("211104",), ["211104"]),
        ("130182", "藁城市", 2014, ("130109",), ["130109"]),
        ("540422", "米林县", 2023, ("540481",), ["540481"]),
        # 郊区 went to five codes in 2001; one of them (桥东区) was itself retired in 2014
        ("130106", "郊区", 2001, ("130102", "130103", "130104", "130105", "130108"), None),
        ("132300", "石家庄地区", 1993, (), []),  # the source names no successor
    ],
)
def test_a_retired_code_resolves_marked_retired_with_its_successors(
    code: str, name: str, year: int, successors: tuple[str, ...], now: list[str] | None
) -> None:
    place = registry().require(code)
    assert (place.name, place.retired, place.successors, place.in_use) == (name, year, successors, False)
    assert code in registry()
    expected_now = now if now is not None else ["130102", "130104", "130105", "130108"]
    assert registry().successors_in_use(code) == expected_now


def test_retired_codes_stay_in_their_citys_tree_but_not_in_its_list_of_counties() -> None:
    codes = registry()
    assert "211121" not in codes.subtree("211100")
    assert codes.subtree("211100", retired=True) == [
        "211100",
        "211102",
        "211103",
        "211104",
        "211111",
        "211121",
        "211122",
        "211100-Z01",
        "211100-Z02",
    ]
    assert codes.contains("211100", "211121")
    assert not codes.contains("211104", "211121")  # the successor is not the old county's parent
    assert codes.require("211100").children == (
        "211102",
        "211103",
        "211104",
        "211122",
        "211100-Z01",
        "211100-Z02",
    )


def test_the_registry_loads_the_shipped_files_again_identically() -> None:
    again = load_registry()
    assert again.codes(retired=True) == registry().codes(retired=True)
    assert len(again) == len(registry()) > 6000


# --- the zone overlay -----------------------------------------------------------------


def _zones(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "zones.yaml"
    path.write_text(f"zones:\n{body}", encoding="utf-8")
    return path


def test_a_zone_added_to_the_overlay_is_a_jurisdiction_of_its_city(tmp_path: Path) -> None:
    zones = _zones(
        tmp_path,
        '  - {code: "130100-Z01", name: 石家庄高新技术产业开发区, parent: "130100"}\n'
        '  - {code: "130100-Z02", name: 旧开发区, parent: "130100", retired: 2020, successors: ["130100-Z01"]}\n',
    )
    codes = load_registry(CODES_FILE, zones)
    assert codes.subtree("130100")[-1] == "130100-Z01"
    assert codes.require("130100-Z01").is_zone
    assert codes.require("130100-Z02").retired == 2020
    assert codes.successors_in_use("130100-Z02") == ["130100-Z01"]
    assert "211100-Z01" not in codes  # this overlay replaced the shipped one


@pytest.mark.parametrize(
    ("line", "field", "problem"),
    [
        ('{code: "130100-Z1", name: x, parent: "130100"}', "zones.0.code", "not <parent>-Znn"),
        ('{code: "130100-Z01", name: x, parent: "211100"}', "zones.0.code", "not <parent>-Znn"),
        ('{code: "999900-Z01", name: x, parent: "999900"}', "999900-Z01.parent", "unknown parent"),
        ('{code: "211121-Z01", name: x, parent: "211121"}', "211121-Z01.parent", "below retired"),
        ('{code: "130100-Z01", name: x}', "zones.0", "code, name and parent"),
        ('{code: "130100-Z01", name: x, parent: "130100", kind: city}', "zones.0", "code, name and parent"),
        (
            '{code: "130100-Z01", name: x, parent: "130100", successors: ["130100-Z09"]}',
            "successors",
            "unknown",
        ),
    ],
)
def test_a_broken_overlay_stops_the_load_naming_the_field(
    tmp_path: Path, line: str, field: str, problem: str
) -> None:
    with pytest.raises(PackError) as caught:
        load_registry(CODES_FILE, _zones(tmp_path, f"  - {line}\n"))
    assert field in str(caught.value)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        (
            [JurisdictionEntry("110000", "a", "province"), JurisdictionEntry("110000", "b", "province")],
            "duplicate",
        ),
        ([JurisdictionEntry("110000", "a", "state")], "unknown kind"),
        (
            [
                JurisdictionEntry("110100", "a", "city", "110101"),
                JurisdictionEntry("110101", "b", "county", "110100"),
            ],
            "loop",
        ),
    ],
)
def test_a_broken_registry_is_refused(entries: list[JurisdictionEntry], problem: str) -> None:
    with pytest.raises(PackError, match=problem):
        JurisdictionRegistry(entries)


# --- building the data from the source ------------------------------------------------


def _source(
    code: str, name: str, level: str, in_use: bool, since: int, until: int | None, new: str = ""
) -> SourceRow:
    return SourceRow(code, name, level, in_use, since, until, new)


def test_the_build_keeps_one_row_per_code_with_its_present_meaning() -> None:
    rows = build(
        [
            _source("130000", "河北省", "province", True, 1981, None),
            _source("130100", "石家庄市", "city", True, 1981, None),
            # a code used, changed, and used again: its present meaning wins
            _source("130107", "井陉矿区", "county", True, 1992, None),
            _source("130107", "井陉矿区", "county", False, 1983, 1989, "130121"),
            # retired twice under two names: the later period wins
            _source("130199", "甲县", "county", False, 1981, 1985, "130107"),
            _source("130199", "乙县", "county", False, 1986, 1990, "130107[1986];130121"),
            _source("130121", "井陉县", "county", True, 1983, None, "130107[1992]"),
            _source("139001", "直辖市", "county", True, 1990, None),
        ]
    )
    assert rows == [
        Row("130000", "河北省", "province", "", 1981, None, ()),
        Row("130100", "石家庄市", "city", "130000", 1981, None, ()),
        Row("130107", "井陉矿区", "district", "130100", 1992, None, ()),
        Row("130121", "井陉县", "county", "130100", 1983, None, ()),
        Row("130199", "乙县", "county", "130100", 1986, 1990, ("130121",)),
        Row("139001", "直辖市", "county", "130000", 1990, None, ()),
    ]


@pytest.mark.parametrize(
    ("field", "retired", "expected"),
    [
        ("130102;130104", 2014, ("130102", "130104")),
        ("130108[2001];130111", 2014, ("130111",)),
        ("130108[2014];130111", 2014, ("130108", "130111")),
        ("", 1993, ()),
    ],
)
def test_successors_are_the_codes_named_for_the_year_of_retirement(
    field: str, retired: int, expected: tuple[str, ...]
) -> None:
    assert successors_at_retirement(field, retired) == expected


@pytest.mark.parametrize(
    ("name", "kind"),
    [("双台子区", "district"), ("万柏林区", "district"), ("峰峰矿区", "district"), ("盘山县", "county"),
     ("辛集市", "county"), ("神农架林区", "county"), ("六枝特区", "county"), ("阿荣旗", "county")],
)  # fmt: skip
def test_county_level_kinds(name: str, kind: str) -> None:
    assert county_kind(name) == kind


# --- the input type -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("000000", "unknown jurisdiction 000000"),
        ("211100-Z09", "unknown jurisdiction 211100-Z09"),
        ("211121", "211121 (大洼县) was retired in 2016; in use now: 211104 (大洼区)"),
        ("２１１１００", "should match pattern"),  # fullwidth digits
        ("211100\n", "should match pattern"),
        (" 211100", "should match pattern"),
        ("211100" * 1000, "should match pattern"),  # never echoed back
        ("*", "should match pattern"),
    ],
)
def test_jurisdiction_code_refuses_unknown_retired_and_malformed_codes(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(JurisdictionCode).validate_python(value)
    assert message in str(caught.value)
    assert len(caught.value.errors()[0]["msg"]) < 200


@pytest.mark.parametrize("value", ["211100", "211102", "411700-Z03", "130181", "110105", "419001"])
def test_jurisdiction_code_takes_every_code_in_use(value: str) -> None:
    assert TypeAdapter(JurisdictionCode).validate_python(value) == value


def test_jurisdiction_code_is_a_pattern_in_openapi_not_an_enum() -> None:
    schema = TypeAdapter(JurisdictionCode).json_schema()
    assert "enum" not in schema
    assert schema["pattern"] == "^[0-9]{6}(-Z[0-9]{2})?$"


# --- scopes ---------------------------------------------------------------------------


def test_a_platform_wide_callers_scope_is_no_condition_and_no_list_per_request() -> None:
    everyone = who(ALL_JURISDICTIONS)

    class Base(DeclarativeBase):
        pass

    class Thing(Base):
        __tablename__ = "things"
        id: Mapped[int] = mapped_column(primary_key=True)
        jurisdiction: Mapped[str] = mapped_column(String(16))

    assert str(in_scope(Thing.jurisdiction, everyone)) == "true"
    assert "WHERE" not in str(within_scope(select(Thing), Thing.jurisdiction, everyone))
    # the list, when asked for, is one object built once, not a new one per request
    assert everyone.visible_jurisdictions() is everyone.visible_jurisdictions()
    assert len(everyone.visible_jurisdictions()) == len(registry())
    city = who("211100")
    assert city.visible_jurisdictions() is who("211100").visible_jurisdictions()
    assert list(city.visible_jurisdictions()) == registry().subtree("211100", retired=True)
    assert "IN (__[POSTCOMPILE" in str(within_scope(select(Thing), Thing.jurisdiction, city))


@pytest.mark.parametrize(
    ("own", "code", "allowed"),
    [
        ((ALL_JURISDICTIONS,), "211121", True),
        ((ALL_JURISDICTIONS,), "130181", True),
        ((ALL_JURISDICTIONS,), "999999", False),
        (("211100",), "211121", True),  # a retired county stays with its city
        (("211104",), "211121", False),  # its successor does not inherit its records
        (("210000",), "211100-Z02", True),  # a province sees its cities' zones
        (("211100",), "210000", False),
        (("211102", "411700"), "411700-Z01", True),
        (("130100",), "130181", True),
        (("130100",), "130182", True),  # retired 藁城市, now 130109
        (("211100",), "130100", False),
    ],
)
def test_can_access(own: tuple[str, ...], code: str, allowed: bool) -> None:
    assert who(*own).can_access(code) is allowed


# --- records under a code that was retired later, through an app against PostgreSQL ----

SCHEMA = "jurisdictions_test"
metadata = service_metadata(SCHEMA)
PlatformTables.declare(metadata)


class RecordBase(DeclarativeBase):
    metadata = metadata


class Household(RecordBase):
    __tablename__ = "households"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(16), index=True)


class HouseholdIn(BaseModel):
    jurisdiction: JurisdictionCode


def build_app(database_url: str) -> FastAPI:
    router = APIRouter()

    @router.post("/households", status_code=201)
    async def create(data: HouseholdIn, session: SessionDep) -> dict[str, str]:
        household = Household(jurisdiction=data.jurisdiction)
        session.add(household)
        await session.flush()
        return {"id": str(household.id)}

    @router.get("/households")
    async def listing(
        session: SessionDep,
        principal: CurrentPrincipal,
        jurisdiction: Annotated[JurisdictionCode | None, Query()] = None,
    ) -> list[str]:
        query = within_scope(select(Household), Household.jurisdiction, principal)
        if jurisdiction is not None:
            query = query.where(Household.jurisdiction == jurisdiction)
        return sorted(h.jurisdiction for h in await session.scalars(query))

    @router.get("/filtered-households")
    async def filtered(
        session: SessionDep, principal: CurrentPrincipal, jurisdiction: JurisdictionFilter = None
    ) -> list[str]:
        query = filtered_to(select(Household), Household.jurisdiction, principal, jurisdiction)
        return sorted(h.jurisdiction for h in await session.scalars(query))

    @router.get("/households/{household_id}")
    async def read(
        household_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
    ) -> dict[str, object]:
        household = await load_in_scope(session, Household, household_id, principal, "household")
        place = registry().require(household.jurisdiction)
        return {"jurisdiction": place.code, "name": place.name, "retired": place.retired}

    settings = ServiceSettings(service_name="jurtest", database_url=database_url, log_json=False)
    return create_service_app(
        settings=settings, metadata=metadata, title="jurtest", description="jurtest", routers=[router]
    )


@pytest.fixture
async def service(
    database_url: str, mint: TokenMint
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    engine = create_async_engine(async_database_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        await connection.run_sync(metadata.create_all)
        # registered before 大洼县 became 大洼区 (2016): the row keeps the old code
        ids = {}
        for code in ("211121", "211104", "211100-Z01", "411702", "130181"):
            ids[code] = str(uuid.uuid4())
            await connection.execute(
                text(f'INSERT INTO "{SCHEMA}".households (id, jurisdiction) VALUES (:id, :code)'),
                {"id": ids[code], "code": code},
            )
    await engine.dispose()
    async with app_client(build_app(database_url), mint) as http:
        yield http, ids


def _as(mint: TokenMint, *jurisdictions: str) -> dict[str, str]:
    return mint.headers(scopes=["x:read"], jurisdictions=list(jurisdictions))


async def test_a_record_under_a_retired_code_resolves_and_stays_with_its_city(
    service: tuple[httpx.AsyncClient, dict[str, str]], mint: TokenMint
) -> None:
    client, ids = service
    panjin, dawa = _as(mint, "211100"), _as(mint, "211104")
    listed = await client.get("/households", headers=panjin)
    assert listed.json() == ["211100-Z01", "211104", "211121"]
    read = await client.get(f"/households/{ids['211121']}", headers=panjin)
    assert read.json() == {"jurisdiction": "211121", "name": "大洼县", "retired": 2016}
    # the successor county does not inherit the old county's records
    assert_problem(await client.get(f"/households/{ids['211121']}", headers=dawa), 404)
    assert (await client.get("/households", headers=dawa)).json() == ["211104"]
    everyone = (await client.get("/households", headers=_as(mint, ALL_JURISDICTIONS))).json()
    assert everyone == ["130181", "211100-Z01", "211104", "211121", "411702"]
    shijiazhuang = (await client.get("/households", headers=_as(mint, "130100"))).json()
    assert shijiazhuang == ["130181"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"jurisdiction": "211121"}, "body.jurisdiction", "in use now: 211104 (大洼区)"),
        ({"jurisdiction": "123456"}, "body.jurisdiction", "unknown jurisdiction 123456"),
        ({"jurisdiction": "２１１１００"}, "body.jurisdiction", "should match pattern"),
    ],
)
async def test_new_input_must_name_a_code_in_use(
    service: tuple[httpx.AsyncClient, dict[str, str]],
    mint: TokenMint,
    body: dict[str, str],
    field: str,
    message: str,
) -> None:
    client, _ = service
    answer = assert_problem(await client.post("/households", json=body, headers=_as(mint, "211100")), 422)
    assert answer["errors"][0]["field"] == field
    assert message in answer["errors"][0]["message"]
    query = assert_problem(
        await client.get(
            "/households", params={"jurisdiction": body["jurisdiction"]}, headers=_as(mint, "211100")
        ),
        422,
    )
    assert message in query["detail"]
    created = await client.post("/households", json={"jurisdiction": "130181"}, headers=_as(mint, "130100"))
    assert created.status_code == 201


@pytest.mark.parametrize(
    ("own", "jurisdiction", "expected"),
    [
        ("211100", "211100", ["211100-Z01", "211104", "211121"]),  # the city's filter reaches the old county
        ("211100", "211121", ["211121"]),  # a retired code is a valid filter: its records are history
        ("211100", "211104", ["211104"]),
        (ALL_JURISDICTIONS, "210000", ["211100-Z01", "211104", "211121"]),
        (ALL_JURISDICTIONS, "130000", ["130181"]),
        ("130100", "130182", []),  # retired 藁城市: known, nothing registered under it
    ],
)
async def test_the_list_filter_is_a_subtree_with_retired_codes(
    service: tuple[httpx.AsyncClient, dict[str, str]],
    mint: TokenMint,
    own: str,
    jurisdiction: str,
    expected: list[str],
) -> None:
    client, _ = service
    answer = await client.get(
        "/filtered-households", params={"jurisdiction": jurisdiction}, headers=_as(mint, own)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == expected


@pytest.mark.parametrize(
    ("jurisdiction", "status", "message"),
    [
        ("130100", 403, "outside your area"),
        ("123456", 422, "unknown jurisdiction 123456"),
        ("2111", 422, "pattern"),
    ],
)
async def test_the_list_filter_refuses_other_areas_and_unknown_codes(
    service: tuple[httpx.AsyncClient, dict[str, str]],
    mint: TokenMint,
    jurisdiction: str,
    status: int,
    message: str,
) -> None:
    client, _ = service
    answer = await client.get(
        "/filtered-households", params={"jurisdiction": jurisdiction}, headers=_as(mint, "211100")
    )
    assert message in assert_problem(answer, status)["detail"]
