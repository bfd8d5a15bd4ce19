"""Every write operation of the merged OpenAPI, hit by eight identical requests at once.

A busy county office double-clicks, retries on a slow line and runs two browser tabs; a
client library retries without an Idempotency-Key. Whatever arrives together, the platform
answers without a server error and the database holds exactly what the operation's class
says (issue findings 3 and 4: lost updates and unique races):

- ``natural_key``: a record identified by what it says (a person by citizen ID, a year by
  number): one 201, the others 409, one record.
- ``update``: a change sent with the ETag read before (sent first with ``If-Match: *``, which names
  no version: 428, nothing changed): one 200 (or 201 for a change recorded
  as a record of its own), the others 412 (or 409 where the change has a natural key too),
  the record's version moved by exactly one.
- ``state_change``: a move of a workflow (a transition, a review): one 2xx, the others 409
  or 412, recorded once.
- ``run``: a job over an area: one 201/202, the others 200 or 409 naming the run, one run.
- ``append``: a record each time (visits, reports): as many records as 2xx answers.
- ``stateless``: a calculation that stores nothing: every answer 200.
- ``repeatable``: a switch the owner may flip again and again without an ETag (pause or resume a
  webhook subscription, rotate its secret): every answer 2xx, the record readable after.
- ``delete``: one 204, the others 404.

The operations are walked in the order their records need (a year is opened before its
subjects are scored), and an operation of the merged document that no flow hits fails the
test: a new write endpoint must be classified here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from platformctl.testing import Platform
from shared.testing import citizen_id

COPIES = 8
Kind = Literal["natural_key", "update", "state_change", "run", "append", "stateless", "repeatable", "delete"]
WRITES = ("post", "put", "patch", "delete")
# Operations of the merged document that are not record writes of the platform's data.
NOT_RECORD_WRITES = {
    # OAuth2 token endpoint: hands out tokens, its throttling has tests of its own
    "POST /auth/token",
    # the gateway's signing-key rotation: one key per call by design, tested in gateway tests
    "POST /auth/admin/keys/rotate",
}
# Operations that need a record only a background process makes (a webhook delivery the relay
# attempted, an overpayment a correction's recalculation booked): their repeats are tested
# where those records are made (shared/tests/test_events.py: manual retry of a delivery;
# services/welfare/tests/test_standard_history.py: one decision per overpayment, 409 after).
NEEDS_A_BACKGROUND_RECORD = {
    f"POST /api/{service}/v1/webhook-subscriptions/{{subscription_id}}/deliveries/{{delivery_id}}/retry"
    for service in ("welfare", "eldercare", "appraisal", "renewal")
} | {"POST /api/welfare/v1/overpayments/{entry_id}/decision"}


@dataclass
class Walk:
    platform: Platform
    headers: dict[str, str]
    seen: set[str] = field(default_factory=set)
    report: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last: list[httpx.Response] = field(default_factory=list)

    def expect(self, holds: bool, described: str) -> None:
        """Note a broken rule and walk on, so that one run lists every operation that breaks."""
        if not holds:
            self.problems.append(described)

    async def burst(
        self,
        operation: str,
        kind: Kind,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        count: Callable[[], Awaitable[int]] | None = None,
        version: Callable[[], Awaitable[str]] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send the request COPIES times at once; check the answers and the records by ``kind``;
        return one successful answer for the walk to go on with."""
        method = operation.split(" ", 1)[0].lower()
        self.seen.add(operation)
        before = await count() if count else 0
        version_before = await version() if version else ""
        if "If-Match" in (headers or {}):
            # If-Match: * names no version: 428, nothing changed (the version check below then
            # still sees exactly one step)
            async with self.platform.client(
                headers={**self.headers, **(headers or {}), "If-Match": "*"}
            ) as client:
                star = await client.request(method, url, json=json, **kwargs)
            self.expect(
                star.status_code == 428, f"{operation} with If-Match: *: {star.status_code} {star.text[:200]}"
            )
        async with self.platform.client(headers={**self.headers, **(headers or {})}) as client:
            answers = await asyncio.gather(
                *(client.request(method, url, json=json, **kwargs) for _ in range(COPIES))
            )
        self.last[:] = answers
        statuses = Counter(answer.status_code for answer in answers)
        described = f"{operation} ({kind}): {dict(statuses)}"
        self.report.append(described)
        assert not [code for code in statuses if code >= 500], described + answers[0].text
        ok = [answer for answer in answers if answer.is_success]
        assert ok, described + " " + answers[0].text
        refused = {code for code in statuses if code >= 400}
        after = await count() if count else 0
        if kind == "natural_key":
            self.expect(len(ok) == 1, described)
            self.expect(refused <= {409}, described)
            if count:
                self.expect(after - before == 1, described)
        elif kind == "update":
            self.expect(len(ok) == 1, described)
            # 412 for the stale twins; 409 where the change also has a natural key (a version of
            # circumstances from one day) and the check of that comes first
            self.expect(refused <= {409, 412}, described)
            if version:
                self.expect(await version() == bump(version_before), described)
        elif kind == "state_change":
            self.expect(len(ok) == 1, described)
            self.expect(refused <= {409, 412}, described)
            if count:
                self.expect(after - before == 1, described)
        elif kind == "run":
            made = [answer for answer in ok if answer.status_code in (201, 202)]
            self.expect(len(made) == 1, described)
            self.expect(refused <= {409}, described)
            for answer in answers:
                if answer.status_code == 409:
                    self.expect("Location" in answer.headers or "active_job" in answer.text, answer.text)
            if count:
                self.expect(after - before == 1, described)
        elif kind == "append":
            self.expect(refused == set(), described)
            if count:
                self.expect(after - before == len(ok), described)
        elif kind == "repeatable":
            self.expect(refused == set(), described)
        elif kind == "delete":
            self.expect(len(ok) == 1, described)
            self.expect(refused <= {404}, described)
        else:
            self.expect(refused == set(), described)
            self.expect(all(answer.status_code == 200 for answer in ok), described)
        return ok[0]

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        async with self.platform.client(headers=self.headers) as client:
            answer = await client.get(url, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer

    async def total(self, url: str, **params: Any) -> int:
        body = (await self.get(url, params=params)).json()
        return len(body) if isinstance(body, list) else int(body["total"])

    async def etag(self, url: str, **params: Any) -> str:
        return (await self.get(url, params=params)).headers["ETag"]


def bump(etag: str) -> str:
    """The ETag of the next version: the platform's ETags end in -v<version>."""
    match = re.fullmatch(r'(W/)?"(.*)-v(\d+)"', etag)
    assert match, etag
    return f'"{match.group(2)}-v{int(match.group(3)) + 1}"'


async def welfare(walk: Walk) -> None:
    base = "/api/welfare/v1"
    county = "211102"
    await walk.burst(
        "POST /api/welfare/v1/calculations",
        "stateless",
        f"{base}/calculations",
        json={
            "program": "dibao",
            "jurisdiction": county,
            "month": "2024-07",
            "household_size": 2,
            "per_capita_income": "300.00",
        },
    )
    household = (
        await walk.burst(
            "POST /api/welfare/v1/households",
            "append",
            f"{base}/households",
            json={"jurisdiction": county, "address": f"兴隆街 {uuid.uuid4().hex[:6]}"},
            count=lambda: walk.total(f"{base}/households", jurisdiction=county),
        )
    ).json()
    household_url = f"{base}/households/{household['id']}"
    await walk.burst(
        "PATCH /api/welfare/v1/households/{household_id}",
        "update",
        household_url,
        json={"address": "兴隆街 8 号"},
        headers={"If-Match": await walk.etag(household_url)},
        version=lambda: walk.etag(household_url),
    )
    number = citizen_id("1958-03-02", region=county)
    await walk.burst(
        "POST /api/welfare/v1/persons",
        "natural_key",
        f"{base}/persons",
        json={
            "jurisdiction": county,
            "name": "并发",
            "citizen_id": number,
            "household_id": household["id"],
        },
        count=lambda: walk.total(f"{base}/persons", jurisdiction=county),
    )
    await walk.burst(
        "POST /api/welfare/v1/enrolment-lookups",
        "stateless",
        f"{base}/enrolment-lookups",
        json={"citizen_id": number, "on": "2024-07-10"},
    )
    decision = {"by": "双台子区民政局", "on": "2024-06-20", "reference": "双民〔2024〕9号"}
    enrolment = (
        await walk.burst(
            "POST /api/welfare/v1/enrolments",
            "natural_key",
            f"{base}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": county,
                "household_id": household["id"],
                "covered_members": 1,
                "per_capita_income": "300.00",
                "start_month": "2024-07",
                "decision": decision,
            },
        )
    ).json()
    enrolment_url = f"{base}/enrolments/{enrolment['id']}"
    await walk.burst(
        "POST /api/welfare/v1/enrolments/{enrolment_id}/income-assessments",
        "update",
        f"{enrolment_url}/income-assessments",
        json={
            "per_capita_income": "250.00",
            "effective_month": "2024-08",
            "assessed_on": "2024-08-02",
            "reference": "双民低〔2024〕3号",
        },
        headers={"If-Match": await walk.etag(enrolment_url)},
        version=lambda: walk.etag(enrolment_url),
    )
    await walk.burst(
        "PATCH /api/welfare/v1/enrolments/{enrolment_id}",
        "update",
        enrolment_url,
        json={"status": "suspended"},
        headers={"If-Match": await walk.etag(enrolment_url)},
        version=lambda: walk.etag(enrolment_url),
    )
    child = await register(walk, f"{base}/persons", county, "2016-05-09")
    orphan_enrolment = await created(
        walk,
        f"{base}/enrolments",
        {
            "program": "orphan_concentrated",
            "jurisdiction": county,
            "person_id": child,
            "start_month": "2024-07",
            "decision": decision,
        },
    )
    orphan_url = f"{base}/enrolments/{orphan_enrolment}"
    await walk.burst(
        "POST /api/welfare/v1/enrolments/{enrolment_id}/care-arrangement",
        "update",
        f"{orphan_url}/care-arrangement",
        json={"arrangement": "scattered", "changed_on": "2024-09-15", "reference": "双民孤〔2024〕9号"},
        headers={"If-Match": await walk.etag(orphan_url)},
        version=lambda: walk.etag(orphan_url),
    )
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    await walk.burst(
        "POST /api/welfare/v1/payrolls",
        "run",
        f"{base}/payrolls",
        json={"jurisdiction": county, "month": last_month},
    )
    await walk.burst(
        "POST /api/welfare/v1/recalculations",
        "run",
        f"{base}/recalculations",
        json={"jurisdiction": county, "from_month": "2024-07"},
    )
    # a standard version of an area that has none of its own (a zone of 驻马店 no other test gives
    # standards: an open-ended version from 2099 would refuse their earlier open-ended ones): one
    # version, the twins collide
    version_id = f"concurrent-{uuid.uuid4().hex[:8]}"
    await walk.burst(
        "POST /api/welfare/v1/standards/versions",
        "natural_key",
        f"{base}/standards/versions",
        json={
            "jurisdiction": "411700-Z03",
            "version_id": version_id,
            "effective_from": "2099-01-01",
            "published_on": "2098-12-01",
            "dibao": "990.00",
            "dibao_citation": {"document": "驻民发〔2098〕1号", "article": "一"},
        },
    )
    await walk.burst(
        "POST /api/welfare/v1/standards/corrections",
        "natural_key",
        f"{base}/standards/corrections",
        json={
            "jurisdiction": "411700-Z03",
            "version_id": f"corrected-{uuid.uuid4().hex[:8]}",
            "effective_from": "2099-01-01",
            "published_on": "2098-12-20",
            "dibao": "995.00",
            "dibao_citation": {"document": "驻民发〔2098〕2号", "article": "一"},
            "corrects": [version_id],
            "reason": "金额录入有误",
            "document_reference": "驻民发〔2098〕2号",
        },
    )


async def register(walk: Walk, url: str, county: str, born: str, **extra: Any) -> str:
    return await created(
        walk,
        url,
        {"jurisdiction": county, "name": "登记", "citizen_id": citizen_id(born, region=county), **extra},
    )


async def created(walk: Walk, url: str, body: dict[str, Any]) -> str:
    async with walk.platform.client(headers=walk.headers) as client:
        answer = await client.post(url, json=body)
    assert answer.status_code == 201, answer.text
    record_id: str = answer.json()["id"]
    return record_id


async def eldercare(walk: Walk) -> None:
    base = "/api/eldercare/v1"
    county = "411726"
    await walk.burst(
        "POST /api/eldercare/v1/evaluations",
        "stateless",
        f"{base}/evaluations",
        json={"jurisdiction": county, "on": "2024-06-01", "person": {"birth_date": "1940-02-03"}},
    )
    catalogue = f"{base}/catalogues/{county}"
    await walk.burst(
        "PUT /api/eldercare/v1/catalogues/{jurisdiction}/overrides",
        "update",
        f"{catalogue}/overrides",
        json={
            "name": "泌阳县基本养老服务清单",
            "version": "2024",
            "document": "泌民〔2024〕1号",
            "effective_from": "2024-01-01",
            "items": {"6": {"eligibility": {"age_at_least": 63}}},
        },
        headers={"If-Match": await walk.etag(catalogue)},
        version=lambda: walk.etag(catalogue),
    )
    person = (
        await walk.burst(
            "POST /api/eldercare/v1/persons",
            "natural_key",
            f"{base}/persons",
            json={
                "jurisdiction": county,
                "name": "并发",
                "citizen_id": citizen_id("1941-08-09", region=county),
                "circumstances": {"effective_from": "2024-01-01", "living_arrangement": "alone"},
            },
            count=lambda: walk.total(f"{base}/persons", jurisdiction=county),
        )
    ).json()
    person_url = f"{base}/persons/{person['id']}"
    await walk.burst(
        "PATCH /api/eldercare/v1/persons/{person_id}",
        "update",
        person_url,
        json={"name": "并发改名"},
        headers={"If-Match": await walk.etag(person_url)},
        version=lambda: walk.etag(person_url),
    )
    await walk.burst(
        "POST /api/eldercare/v1/persons/{person_id}/circumstances",
        "update",
        f"{person_url}/circumstances",
        json={"effective_from": "2024-04-10", "dibao": True, "reference": "泌民低〔2024〕7号"},
        headers={"If-Match": await walk.etag(person_url)},
        version=lambda: walk.etag(person_url),
    )
    await walk.burst(
        "POST /api/eldercare/v1/visits",
        "append",
        f"{base}/visits",
        json={
            "person_id": person["id"],
            "visited_on": "2024-03-05",
            "visitor": "社工 刘洋",
            "method": "home",
        },
        count=lambda: walk.total(f"{person_url}/visits"),
    )
    await walk.burst(
        "POST /api/eldercare/v1/snapshots",
        "run",
        f"{base}/snapshots",
        json={"jurisdiction": county, "month": "2024-05"},
    )


async def appraisal(walk: Walk, county_headers: dict[str, str]) -> None:
    base = "/api/appraisal/v1"
    year_number = 2180 + uuid.uuid4().int % 700
    years = f"{base}/years/{year_number}"
    q = {"scheme": "zhumadian"}
    subject = f"{years}/subjects/411702"
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    await walk.burst(
        "POST /api/appraisal/v1/grading",
        "stateless",
        f"{base}/grading",
        json={"scheme": "panjin", "subjects": [{"id": "211102", "base": 92.5}, {"id": "211103", "base": 90}]},
    )
    await walk.burst(
        "POST /api/appraisal/v1/years",
        "natural_key",
        f"{base}/years",
        json={"scheme": "zhumadian", "year": year_number},
    )
    await walk.burst(
        "PATCH /api/appraisal/v1/years/{year}",
        "update",
        years,
        json={"deductions_cap": "10"},
        headers={"If-Match": await walk.etag(years, **q)},
        version=lambda: walk.etag(years, **q),
        params=q,
    )
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/rules-publication",
        "state_change",
        f"{years}/rules-publication",
        json={"document": "detailed_rules", "published_on": "2024-08-20"},
        params=q,
    )
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects",
        "natural_key",
        f"{years}/subjects",
        json={"code": "wsjkw", "name": "市卫生健康委"},
        params=q,
    )
    wsjkw = f"{years}/subjects/wsjkw"
    await walk.burst(
        "PATCH /api/appraisal/v1/years/{year}/subjects/{subject}",
        "update",
        wsjkw,
        json={"name": "市卫生健康委员会"},
        headers={"If-Match": await walk.etag(wsjkw, **q)},
        version=lambda: walk.etag(wsjkw, **q),
        params=q,
    )
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/indicators",
        "natural_key",
        f"{years}/indicators",
        json={
            "code": "basic",
            "name": "基础工作",
            "content_area": 1,
            "max_points": 100,
            "department": "市市场监管局",
        },
        params=q,
    )
    entry = (
        await walk.burst(
            "POST /api/appraisal/v1/years/{year}/score-entries",
            "natural_key",
            f"{years}/score-entries",
            json={"subject": "411702", "indicator": "basic", "points": "90", "method": "materials_review"},
            params=q,
        )
    ).json()
    entry_url = f"{years}/score-entries/{entry['id']}"
    await walk.burst(
        "PATCH /api/appraisal/v1/years/{year}/score-entries/{entry_id}",
        "update",
        entry_url,
        json={"points": "88"},
        headers={"If-Match": await walk.etag(entry_url, **q)},
        version=lambda: walk.etag(entry_url, **q),
        params=q,
    )
    # a subject moved on its own: in a Panjin year of the same number (a year's own transition
    # moves every subject, and one moved ahead stops it)
    panjin = {"scheme": "panjin"}
    async with walk.platform.client(headers=walk.headers) as client:
        opened = await client.post(f"{base}/years", json={"scheme": "panjin", "year": year_number})
        assert opened.status_code == 201, opened.text
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects/{subject}/transitions",
        "state_change",
        f"{years}/subjects/211102/transitions",
        json={"to": "mid_year_review"},
        count=lambda: walk.total(f"{years}/subjects/211102/transitions", **panjin),
        params=panjin,
    )
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/transitions",
        "state_change",
        f"{years}/transitions",
        json={"to": "mid_year_review"},
        params=q,
    )
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects/{subject}/mid-year-review",
        "natural_key",
        f"{subject}/mid-year-review",
        json={"reviewed_on": yesterday, "key_tasks": "重点任务", "last_year_rectified": True},
        params=q,
    )
    await move(walk, years, "status_evaluation")
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects/{subject}/status-evaluation",
        "natural_key",
        f"{subject}/status-evaluation",
        json={
            "satisfaction": "86.5",
            "food_sampling_pass_rate": 98.7,
            "farm_produce_monitoring_pass_rate": "99.1",
        },
        params=q,
    )
    await move(walk, years, "self_evaluation")
    county_walk = Walk(walk.platform, county_headers, walk.seen, walk.report, walk.problems)
    await county_walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects/{subject}/self-evaluation",
        "natural_key",
        f"{subject}/self-evaluation",
        json={"statement": "落实属地管理责任", "items": [{"indicator": "basic", "points": 60}]},
        params=q,
    )
    self_evaluation = f"{subject}/self-evaluation"
    await county_walk.burst(
        "PATCH /api/appraisal/v1/years/{year}/subjects/{subject}/self-evaluation",
        "update",
        self_evaluation,
        json={"statement": "落实属地管理责任，补充"},
        headers={"If-Match": await county_walk.etag(self_evaluation, **q)},
        version=lambda: county_walk.etag(self_evaluation, **q),
        params=q,
    )
    await county_walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects/{subject}/evidence",
        "append",
        f"{subject}/evidence",
        files={"file": ("自评报告.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
        data={"purpose": "self_evaluation"},
        count=lambda: county_walk.total(f"{subject}/evidence", **q),
        params=q,
    )
    await move(walk, years, "department_review")
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/review-opinions",
        "natural_key",
        f"{years}/review-opinions",
        json={"subject": "411702", "indicator": "basic", "opinion": "自评偏高，核减", "points": "52.5"},
        params=q,
    )
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects/{subject}/adjustments",
        "append",
        f"{subject}/adjustments",
        json={"component": "bonus", "points": "1", "reason": "经验做法在全省推广"},
        count=lambda: walk.total(f"{subject}/adjustments", **q),
        params=q,
    )
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects/{subject}/circumstances",
        "append",
        f"{subject}/circumstances",
        json={"circumstance": "zhumadian-10-7", "evidence": "自评材料弄虚作假"},
        count=lambda: walk.total(f"{subject}/circumstances", **q),
        params=q,
    )
    await move(walk, years, "comprehensive_evaluation")
    await walk.burst(
        "POST /api/appraisal/v1/years/{year}/evaluation",
        "stateless",
        f"{years}/evaluation",
        params=q,
    )
    await walk.burst(
        "POST /api/appraisal/v1/incidents",
        "append",
        f"{base}/incidents",
        json={
            "scheme": "zhumadian",
            "subject": "411702",
            "occurred_on": yesterday,
            "description": "并发事故",
            "effect": "deduction",
            "points": "1",
        },
    )
    await move(walk, years, "published", effective_on=yesterday)
    await move(walk, years, "rectification")
    await county_walk.burst(
        "POST /api/appraisal/v1/years/{year}/subjects/{subject}/rectification",
        "natural_key",
        f"{subject}/rectification",
        json={
            "summary": "逐项整改",
            "measures": [{"measure": "补齐", "due_on": "2031-06-30"}],
            "submitted_on": yesterday,
        },
        params=q,
    )


async def move(walk: Walk, years: str, to: str, **extra: Any) -> None:
    async with walk.platform.client(headers=walk.headers) as client:
        answer = await client.post(
            f"{years}/transitions", params={"scheme": "zhumadian"}, json={"to": to, **extra}
        )
    assert answer.status_code == 201, answer.text


async def renewal(walk: Walk, unit_headers: dict[str, str]) -> None:
    base = "/api/renewal/v1"
    plan = f"{base}/plans/panjin-2024-equipment-renewal"
    await walk.burst(
        "POST /api/renewal/v1/equipment/assessments",
        "stateless",
        f"{base}/equipment/assessments",
        json={"kind": "tractor", "in_service_since": "2008-05-01", "on": "2024-06-01"},
    )
    unit = Walk(walk.platform, unit_headers, walk.seen, walk.report, walk.problems)
    reports = f"{plan}/tasks/25/reports"
    period = f"20{30 + uuid.uuid4().int % 60}-01"
    report = (
        await unit.burst(
            "POST /api/renewal/v1/plans/{plan_id}/tasks/{number}/reports",
            "append",
            reports,
            json={"period": period, "narrative": "医疗装备更新"},
        )
    ).json()
    # each submission is a revision of its own (an append), every one readable
    filed = [answer.json() for answer in unit.last if answer.status_code == 201]
    revisions = sorted(item["version"] for item in filed)
    walk.expect(revisions == list(range(revisions[0], revisions[0] + len(filed))), f"revisions {revisions}")
    for item in filed:
        await unit.get(f"{reports}/{item['id']}")
    newest = max(filed, key=lambda item: item["version"])
    report_url = f"{reports}/{newest['id']}"
    assert report["period"] == period
    await walk.burst(
        "POST /api/renewal/v1/plans/{plan_id}/tasks/{number}/reports/{report_id}/review",
        "update",
        f"{report_url}/review",
        json={"decision": "accept"},
        headers={"If-Match": await unit.etag(report_url)},
    )
    await walk.burst(
        "POST /api/renewal/v1/plans/{plan_id}/duties",
        "natural_key",
        f"{plan}/duties",
        json={
            "task_number": 40,
            "unit": "市市场监管局",
            "cadence": "quarterly",
            "starts": f"20{30 + uuid.uuid4().int % 60}-01-01",
            "due_day": 10,
        },
    )
    away = f"20{30 + uuid.uuid4().int % 60}-03"
    await walk.burst(
        "POST /api/renewal/v1/plans/{plan_id}/leader-absences",
        "natural_key",
        f"{plan}/leader-absences",
        json={
            "leader": "胡振乾",
            "away_from": f"{away}-01",
            "away_to": f"{away}-02",
            "reason": "出差",
        },
    )


async def gateway(walk: Walk) -> None:
    username = f"cw-{uuid.uuid4().hex[:10]}"
    await walk.burst(
        "POST /auth/admin/accounts",
        "natural_key",
        "/auth/admin/accounts",
        json={
            "username": username,
            "display_name": username,
            "password": "a-long-test-password",
            "roles": ["staff"],
            "scopes": ["welfare:read"],
            "jurisdictions": ["211102"],
        },
    )
    account = f"/auth/admin/accounts/{username}"
    await walk.burst(
        "PATCH /auth/admin/accounts/{username}",
        "update",
        account,
        json={"display_name": "改名"},
        headers={"If-Match": await walk.etag(account)},
        version=lambda: walk.etag(account),
    )
    client_id = f"cw-{uuid.uuid4().hex[:10]}"
    await walk.burst(
        "POST /auth/admin/clients",
        "natural_key",
        "/auth/admin/clients",
        json={
            "client_id": client_id,
            "name": "并发",
            "scopes": ["welfare:read"],
            "jurisdictions": ["211100"],
        },
    )
    client = f"/auth/admin/clients/{client_id}"
    await walk.burst(
        "PATCH /auth/admin/clients/{client_id}",
        "update",
        client,
        json={"name": "并发改名"},
        headers={"If-Match": await walk.etag(client)},
        version=lambda: walk.etag(client),
    )


async def webhooks(walk: Walk, service: str) -> None:
    """A subscription of an API client (webhooks belong to clients, not to staff accounts)."""
    base = f"/api/{service}/v1/webhook-subscriptions"
    client_id = f"cw-hooks-{service}-{uuid.uuid4().hex[:6]}"
    async with walk.platform.client(headers=walk.headers) as client:
        created = await client.post(
            "/auth/admin/clients",
            json={
                "client_id": client_id,
                "name": "订阅",
                "scopes": [f"{service}:read"],
                "jurisdictions": ["*"],
            },
        )
        assert created.status_code == 201, created.text
        token = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": created.json()["client_secret"],
            },
        )
        assert token.status_code == 200, token.text
    owner = Walk(
        walk.platform,
        {"Authorization": f"Bearer {token.json()['access_token']}"},
        walk.seen,
        walk.report,
        walk.problems,
    )
    subscription = (
        await owner.burst(
            f"POST {base}",
            "append",
            base,
            json={"url": "https://1.1.1.1/civic-hooks", "types": []},
            count=lambda: owner.total(base),
        )
    ).json()
    item = f"{base}/{subscription['id']}"
    path = f"{base}/{{subscription_id}}"
    await owner.burst(f"POST {path}/pause", "repeatable", f"{item}/pause")
    await owner.burst(f"POST {path}/resume", "repeatable", f"{item}/resume")
    await owner.burst(f"POST {path}/rotate-secret", "repeatable", f"{item}/rotate-secret")
    await owner.get(item)
    await owner.burst(f"DELETE {path}", "delete", item)


async def test_eight_identical_writes_at_once(platform: Platform) -> None:
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in WRITES
    }
    walk = Walk(platform, await platform.admin_headers())
    county = await platform.account(
        "cw-county-411702", scopes=["appraisal:read", "appraisal:write"], jurisdictions=["411702"]
    )
    unit = await platform.account(
        "cw-panjin-health",
        scopes=["renewal:read", "renewal:write"],
        units=["市卫生健康委"],
        jurisdictions=["211100"],
    )
    await welfare(walk)
    await eldercare(walk)
    await appraisal(walk, county)
    await renewal(walk, unit)
    await gateway(walk)
    for service in ("welfare", "eldercare", "appraisal", "renewal"):
        await webhooks(walk, service)
    assert walk.problems == [], "\n".join(["broken:", *walk.problems, "all:", *walk.report])
    missing = sorted(operations - walk.seen - NOT_RECORD_WRITES - NEEDS_A_BACKGROUND_RECORD)
    assert missing == [], f"classify these write operations in tests/test_concurrent_writes.py: {missing}"
