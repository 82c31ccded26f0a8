"""The API's routes: a plain endpoint still runs off the event loop, its answer is still checked
against its response model, and what a route declares on its endpoint is still read. A quick
endpoint runs on the event loop holding the writer lock when it is free, and in the thread pool
when a thread holds it.

No "from __future__ import annotations": FastAPI must see the dependency defined in ``build``.
"""

import threading
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel

from tests.threads import held_by_another_thread
from triage.adapters.database import Database, WriterLock
from triage.entrypoints.api.routing import Quick, ThreadedRoute
from triage.entrypoints.request_bodies import body_limit, declared_limit


class Answer(BaseModel):
    name: str
    count: int


LOCK = WriterLock()  # this process's writers only, as a database in memory has


def build(inline: bool = True) -> tuple[FastAPI, dict[str, int], APIRouter]:
    threads: dict[str, int] = {}
    router = APIRouter(prefix="/t", route_class=ThreadedRoute)
    quick = Quick(LOCK, inline=inline)

    async def on_the_loop() -> int:
        threads["loop"] = threading.get_ident()
        return 1

    @router.get("/answer/{name}")
    def answer(name: str, one: Annotated[int, Depends(on_the_loop)], extra: int = 0) -> Answer:
        threads["endpoint"] = threading.get_ident()
        return Answer(name=name, count=one + extra)

    @router.get("/quick/{name}")
    @quick
    def quick_answer(
        name: str, one: Annotated[int, Depends(on_the_loop)], extra: int = 0
    ) -> Answer:
        threads["quick"] = threading.get_ident()
        with LOCK:  # as a writing unit of work takes it (again, on the event loop)
            threads["others_could_write"] = int(_free_for_another_thread())
        return Answer(name=name, count=one + extra)

    @router.get("/read/{name}")
    async def quick_read(name: str, write: bool = False) -> Answer:
        def read() -> Answer:
            threads["read"] = threading.get_ident()
            if write:  # as a writing unit of work would, by mistake
                with LOCK:
                    pass
            return Answer(name=name, count=0)

        return await quick.read(read)

    @router.get("/wrong")
    def wrong() -> Answer:
        return {"name": "x", "count": "not a number"}  # type: ignore[return-value]

    @router.get("/filtered", response_model=Answer)
    def filtered() -> dict[str, object]:
        return {"name": "x", "count": 2, "secret": "never sent"}

    @router.post("/upload")
    @body_limit(12345)
    def upload() -> Answer:
        return Answer(name="upload", count=0)

    app = FastAPI()
    app.include_router(router)
    return app, threads, router


def test_a_plain_endpoint_runs_off_the_event_loop_with_its_parameters() -> None:
    app, threads, _ = build()
    with TestClient(app) as client:
        got = client.get("/t/answer/abc", params={"extra": 2})
    assert got.status_code == 200
    assert got.json() == {"name": "abc", "count": 3}
    assert threads["endpoint"] != threads["loop"]


def test_the_answer_is_still_checked_against_the_response_model() -> None:
    app, _, _ = build()
    with TestClient(app) as client:
        assert client.get("/t/filtered").json() == {"name": "x", "count": 2}
        with pytest.raises(ResponseValidationError):
            client.get("/t/wrong")
        assert client.get("/t/answer/abc", params={"extra": "x"}).status_code == 422


def test_the_parameters_and_declarations_of_the_endpoint_are_kept() -> None:
    app, _, router = build()
    routes = {getattr(r, "path", ""): r for r in router.routes}
    assert declared_limit(routes["/t/upload"]) == 12345
    parameters = app.openapi()["paths"]["/t/answer/{name}"]["get"]["parameters"]
    assert {p["name"] for p in parameters} == {"name", "extra"}


def _free_for_another_thread() -> bool:
    got: list[bool] = []

    def attempt() -> None:
        got.append(LOCK.acquire(blocking=False))
        if got[0]:
            LOCK.release()

    other = threading.Thread(target=attempt)
    other.start()
    other.join(10)
    return got[0]


def test_a_quick_endpoint_runs_on_the_event_loop_holding_the_lock() -> None:
    app, threads, _ = build()
    with TestClient(app) as client:
        got = client.get("/t/quick/abc", params={"extra": 2})
        assert got.json() == {"name": "abc", "count": 3}
        assert threads["quick"] == threads["loop"]
        assert threads["others_could_write"] == 0
        # Its answer is checked and its parameters validated as any endpoint's.
        assert client.get("/t/quick/abc", params={"extra": "x"}).status_code == 422
    assert LOCK.acquire(blocking=False)  # and released after
    LOCK.release()


def test_a_quick_endpoint_goes_to_the_thread_pool_while_a_thread_holds_the_lock() -> None:
    app, threads, _ = build()
    with TestClient(app) as client:
        answered: dict[str, int] = {}

        def call() -> None:
            answered["status"] = client.get("/t/quick/abc").status_code

        caller = threading.Thread(target=call)
        with held_by_another_thread(LOCK):
            caller.start()
            # The event loop is not blocked: another request is answered meanwhile.
            assert client.get("/t/answer/x").status_code == 200
            assert caller.is_alive(), "the quick call did not wait for the lock"
        caller.join(10)
    assert answered == {"status": 200}
    assert threads["quick"] != threads["loop"]


def test_quick_work_stays_in_the_thread_pool_on_postgresql(tmp_path: Path) -> None:
    # A PostgreSQL statement is a round trip the event loop would wait out.
    app, threads, _ = build(inline=False)
    with TestClient(app) as client:
        assert client.get("/t/quick/abc").status_code == 200
    assert threads["quick"] != threads["loop"]
    lite = Database(f"sqlite:///{tmp_path / 'x.db'}")
    pg = Database("postgresql://nobody@127.0.0.1:1/none")  # never connected
    try:
        assert Quick.of(lite).inline is True
        assert Quick.of(pg).inline is False
    finally:
        lite.dispose()
        pg.dispose()


def test_a_quick_read_runs_on_the_event_loop_even_while_a_writer_holds_the_lock() -> None:
    app, threads, _ = build()
    with TestClient(app) as client:
        client.get("/t/answer/x")  # where the event loop runs
        with held_by_another_thread(LOCK):
            got = client.get("/t/read/abc")
    assert got.json() == {"name": "abc", "count": 0}
    assert threads["read"] == threads["loop"]


def test_a_quick_read_that_would_write_fails_instead_of_waiting() -> None:
    app, _, _ = build()
    with (
        TestClient(app) as client,
        pytest.raises(RuntimeError, match="declared a read"),
    ):
        client.get("/t/read/abc", params={"write": True})
    assert LOCK.acquire(blocking=False)
    LOCK.release()
