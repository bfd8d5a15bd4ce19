"""Errors as clients read them: 400 for malformed JSON, field paths as sent, allowed values of
enum fields, Chinese titles and details for callers whose Accept-Language prefers zh."""

from __future__ import annotations

from platformctl.testing import Platform, assert_problem

CALCULATIONS = "/api/welfare/v1/calculations"
DIBAO = {"program": "dibao", "jurisdiction": "211102", "month": "2024-07", "household_size": 2}


async def test_malformed_json_is_400_not_422(platform: Platform) -> None:
    async with platform.client(headers=await platform.admin_headers()) as client:
        for body in (b'{"program": "dibao",', b"{'single': 'quotes'}", b'{"a": 1}\n}'):
            response = await client.post(
                CALCULATIONS, content=body, headers={"Content-Type": "application/json"}
            )
            problem = assert_problem(response, 400)
            assert problem["type"].endswith("/malformed-json")
            assert "character" in problem["detail"]
        # the gateway's own JSON endpoints answer the same
        own = await client.post(
            "/auth/admin/accounts", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert_problem(own, 400)
        # well-formed JSON of the wrong shape stays a 422
        assert_problem(await client.post(CALCULATIONS, json=[1, 2]), 422)


async def test_field_paths_name_the_field_as_sent_without_the_union_tag(platform: Platform) -> None:
    async with platform.client(headers=await platform.admin_headers()) as client:
        response = await client.post(CALCULATIONS, json={**DIBAO, "per_capita_income": "-5"})
        problem = assert_problem(response, 422)
        assert [e["field"] for e in problem["errors"]] == ["body.per_capita_income"]
        missing = assert_problem(await client.post(CALCULATIONS, json=DIBAO), 422)
        assert [e["field"] for e in missing["errors"]] == ["body.per_capita_income"]


async def test_a_chinese_value_in_an_enum_field_gets_the_allowed_values(platform: Platform) -> None:
    async with platform.client(headers=await platform.admin_headers()) as client:
        program = assert_problem(await client.post(CALCULATIONS, json={**DIBAO, "program": "低保"}), 422)
        [error] = program["errors"]
        assert error["field"] == "body.program"
        assert {"dibao", "tekun", "retiree_1960s"} <= set(error["allowed"])
        assert "dibao" in error["message"]
        kind = assert_problem(await client.get("/api/welfare/v1/ledger", params={"kind": "补发"}), 422)
        assert kind["errors"][0]["field"] == "query.kind"
        assert {"regular", "arrears", "correction"} <= set(kind["errors"][0]["allowed"])
        sort = assert_problem(await client.get("/api/welfare/v1/audit-log", params={"sort": "时间"}), 422)
        assert sort["errors"][0]["allowed"] == ["-occurred_at", "occurred_at"]
        assert "^" not in sort["errors"][0]["message"]


async def test_problems_speak_chinese_when_accept_language_prefers_it(platform: Platform) -> None:
    headers = await platform.admin_headers()
    async with platform.client(headers=headers) as client:
        english = await client.post(CALCULATIONS, json=DIBAO, headers={"Accept-Language": "en-GB,zh;q=0.8"})
        assert assert_problem(english, 422)["title"] == "Invalid input"
        assert english.headers["Content-Language"] == "en"
        chinese = await client.post(
            CALCULATIONS, json=DIBAO, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
        )
        problem = assert_problem(chinese, 422)
        assert chinese.headers["Content-Language"] == "zh-CN"
        assert problem["title"] == "输入无效"
        assert problem["errors"][0] == {"field": "body.per_capita_income", "message": "必填"}
        assert "必填" in problem["detail"]
        weighted = await client.get(
            "/api/welfare/v1/households/00000000-0000-0000-0000-000000000000",
            headers={"Accept-Language": "en;q=0.5, zh-Hans;q=0.9"},
        )
        assert assert_problem(weighted, 404)["title"] == "未找到"
        unknown = await client.get(
            "/api/welfare/v1/households", params={"colour": "red"}, headers={"Accept-Language": "zh"}
        )
        assert assert_problem(unknown, 422)["errors"][0]["message"] == "此操作没有这个参数"
        stale = await client.get("/auth/admin/accounts/nobody-here", headers={"Accept-Language": "zh-TW"})
        assert assert_problem(stale, 404)["title"] == "未找到"
