"""Location on 201 answers, derived from the read of what was made (shared.created)."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.created import CreatedLocationMiddleware, reads
from shared.pagination import Items


class Thing(BaseModel):
    id: int
    name: str


def app() -> FastAPI:
    application = FastAPI()
    application.add_middleware(CreatedLocationMiddleware)

    @application.post("/things", status_code=201)
    async def make_thing() -> Thing:
        return Thing(id=7, name="第一")

    @application.get("/things/{thing_id}")
    async def read_thing(thing_id: int) -> Thing:
        return Thing(id=thing_id, name="x")

    @application.post("/groups/{group}/review", status_code=201)
    async def review(group: str) -> Thing:  # one per group: read at the same path
        return Thing(id=1, name=group)

    @application.get("/groups/{group}/review")
    async def read_review(group: str) -> Thing:
        return Thing(id=1, name=group)

    @application.post("/notes", status_code=201)
    async def note() -> Thing:  # appended to a list, no read of one note
        return Thing(id=3, name="n")

    @application.get("/notes")
    async def notes() -> Items[Thing]:
        return Items.of([])

    @application.post("/named", status_code=201)
    async def named(response: Response) -> Thing:
        response.headers["Location"] = "/elsewhere/9"
        return Thing(id=9, name="n")

    @application.get("/named/{named_id}")
    async def read_named(named_id: int) -> Thing:
        return Thing(id=named_id, name="n")

    @application.post("/things/{thing_id}/stamps", status_code=201)
    async def stamp(thing_id: int) -> Thing:
        return Thing(id=thing_id, name="stamped")

    @application.get("/reports")
    async def report(on: str) -> Thing:
        return Thing(id=1, name=on)

    @application.post("/reports/corrections", status_code=201)
    async def correct() -> Thing:
        return Thing(id=2, name="c")

    @application.post("/things/search")
    async def search() -> Thing:  # 200: not a creation
        return Thing(id=1, name="x")

    return application


def test_location_names_the_read_of_what_was_made() -> None:
    client = TestClient(app())
    made = client.post("/things")
    assert made.status_code == 201
    assert made.headers["Location"] == "/things/7"
    assert made.json() == {"id": 7, "name": "第一"}
    assert client.post("/groups/东区/review").headers["Location"] == "/groups/%E4%B8%9C%E5%8C%BA/review"
    # appended to a list and no read of one note: the list it is read back in
    assert client.post("/notes").headers["Location"] == "/notes"
    # no read of one, no list at its path: the record above it that shows it
    assert client.post("/things/7/stamps").headers["Location"] == "/things/7"
    # a read above that needs query parameters is no Location
    assert "Location" not in client.post("/reports/corrections").headers
    assert client.post("/named").headers.get_list("Location") == ["/elsewhere/9"]
    assert "Location" not in client.post("/things/search").headers


def test_the_reads_are_those_of_the_openapi_document() -> None:
    """What ``reads`` takes from the routing table is what the app's OpenAPI document says: each
    GET operation, and whether it needs a query parameter (tests/test_created_location_reads.py
    holds every service to the same)."""
    application = app()
    assert reads(application) == reads_in_openapi(application)
    assert reads(application)["/reports"] is True  # `on` is required
    assert reads(application)["/things/{thing_id}"] is False


def reads_in_openapi(application: FastAPI) -> dict[str, bool]:
    return {
        path: any(p["in"] == "query" and p.get("required") for p in item["get"].get("parameters", []))
        for path, item in application.openapi()["paths"].items()
        if "get" in item
    }
