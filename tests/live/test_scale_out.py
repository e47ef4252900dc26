"""Several processes on one PostgreSQL and one Redis behave to every client like one process."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from websockets.exceptions import InvalidStatus

from helpdesk.models import Role
from tests.conftest import PASSWORD
from tests.live.helpers import FrameReader, events_of
from tests.live.server import LiveServer, Person, free_port, prepare_database, server_env
from tests.services import SHARED_REDIS, PostgresDatabase, redis_reachable, unavailable

pytestmark = pytest.mark.live
ACCOUNTS = {"sam": Role.STAFF, "ada": Role.ADMIN, **{f"student{n}": Role.USER for n in range(30)}}


class RedisProcess:
    """A Redis of our own, so a test can stop and restart it without touching the shared one."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server", FileNotFoundError("redis-server is not installed"))
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return self
            except (redis.RedisError, OSError):
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def cluster_env(root: Path, database_url: str, broker_url: str, **settings: str) -> dict[str, str]:
    return server_env(
        root,
        database_url=database_url,
        broker_url=broker_url,
        namespace=f"test-{uuid.uuid4().hex[:8]}",
        chat_messages="1000",
        **settings,
    )


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two `helpdesk serve` processes sharing a PostgreSQL database and the machine's Redis."""
    redis_reachable(SHARED_REDIS)
    root = tmp_path_factory.mktemp("pair")
    try:
        database = PostgresDatabase(root).create()
    except OSError as error:
        unavailable("PostgreSQL", error)
    env = cluster_env(root, database.url, SHARED_REDIS)
    prepare_database(env, ACCOUNTS)
    first, second = LiveServer(root, env).start(), LiveServer(root, env).start()
    yield first, second
    first.stop()
    second.stop()
    database.drop()


_students = iter(f"student{n}" for n in range(30))


@pytest.fixture
async def people(pair):
    """A reporter signed in on the first server and a staff member on the second."""
    first, second = pair
    reporter = await Person(first, next(_students)).login()
    staff = await Person(second, "sam").login()
    yield reporter, staff
    await reporter.close()
    await staff.close()


async def report(person: Person, **fields) -> dict:
    response = await person.http.post(
        "/api/v1/tickets",
        json={
            "title": "Lift stuck",
            "description": "Science Hall",
            "category": "facilities",
            **fields,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_message_sent_through_one_server_reaches_a_socket_on_the_other(people):
    reporter, staff = people
    ticket = await report(reporter)
    room = f"ticket:{ticket['id']}"
    on_first, on_second = await reporter.socket(), await staff.socket()
    await on_first.join(room)
    await on_second.join(room)
    await on_first.send({"op": "say", "room": room, "body": "Stuck on floor 3", "client_id": "a"})
    heard = await on_second.until("event", kind="message.created")
    assert heard["data"]["body"] == "Stuck on floor 3"
    await on_second.send({"op": "say", "room": room, "body": "Technician on the way"})
    answer = await on_first.until(
        lambda f: f.get("kind") == "message.created" and f["data"]["author"]["id"] == staff.id
    )
    assert answer["data"]["body"] == "Technician on the way"
    again = [
        f
        for f in on_second.seen
        if f.get("kind") == "message.created" and f["data"]["body"] == "Stuck on floor 3"
    ]
    assert len(again) == 1, "delivered once, not once per process"


async def test_typing_and_presence_cross_servers(people):
    reporter, staff = people
    ticket = await report(reporter)
    room = f"ticket:{ticket['id']}"
    on_first, on_second = await reporter.socket(), await staff.socket()
    await on_first.join(room)
    await on_second.join(room)
    both = await on_first.until(lambda f: f.get("type") == "presence" and len(f["viewers"]) == 2)
    assert {viewer["id"] for viewer in both["viewers"]} == {reporter.id, staff.id}
    await on_second.send({"op": "typing", "room": room})
    assert (await on_first.until("typing"))["user"]["id"] == staff.id


async def test_the_board_on_one_server_sees_changes_made_on_the_other(people):
    reporter, staff = people
    board = await staff.socket()
    await board.join("board")
    ticket = await report(reporter)
    created = await board.until(
        lambda f: f.get("kind") == "ticket.created" and f["data"]["id"] == ticket["id"]
    )
    assert created["data"]["title"] == "Lift stuck"
    response = await reporter.http.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"title": "Lift stuck on floor 3"}
    )
    assert response.status_code == 200
    updated = await board.until("event", kind="ticket.updated")
    assert updated["data"]["title"] == "Lift stuck on floor 3"


async def test_replay_after_reconnecting_to_the_other_server_is_exact(pair, people):
    _, second = pair
    reporter, staff = people
    ticket = await report(reporter)
    room = f"ticket:{ticket['id']}"
    tab = await reporter.socket()
    _, joined = await tab.join(room)
    since = joined["last_event_id"]
    await reporter.sockets.pop().close()
    path = f"/api/v1/tickets/{ticket['id']}/messages"
    for n in range(6):  # written through both servers while the reporter is away
        await staff.http.post(path, json={"body": f"public {n}"})
        await staff.http.post(path, json={"body": f"note {n}", "internal": True})
        await reporter.http.post(path, json={"body": f"mine {n}"})
    elsewhere = reporter.on(second)
    try:
        replayed, joined = await (await elsewhere.socket()).join(room, since=since)
        bodies = [e["data"]["body"] for e in events_of(replayed, "message.created")]
        assert bodies == [body for n in range(6) for body in (f"public {n}", f"mine {n}")]
        ids = [e["id"] for e in replayed]
        assert ids == sorted(set(ids))
        assert joined["last_event_id"] == ids[-1]
    finally:
        await elsewhere.close()


@dataclass
class Browser:
    """One sign-in (one session) with a tab open on each server."""

    here: Person
    there: Person
    tabs: list[FrameReader]

    @classmethod
    async def open(cls, pair: tuple[LiveServer, LiveServer], username: str) -> Browser:
        first, second = pair
        here = await Person(first, username).login()
        there = here.on(second)
        return cls(here, there, [await here.socket(), await there.socket()])

    async def signed_out(self) -> None:
        """Every tab is closed with 4401, and the cookie opens no new socket on either server."""
        for tab in self.tabs:
            closed = await tab.until_closed()
            assert closed.rcvd.code == 4401, closed
        for person in (self.here, self.there):
            with pytest.raises(InvalidStatus) as refused:
                await person.socket()
            assert refused.value.response.status_code == 401

    async def still_open(self) -> None:
        for tab in self.tabs:
            await tab.send({"op": "ping"})
            assert await tab.until("pong") == {"type": "pong"}

    async def close(self) -> None:
        await self.here.close()
        await self.there.close()


@pytest.fixture
async def browsers(pair) -> AsyncIterator[list[Browser]]:
    """A fresh reporter signed in from two browsers, each with a tab on both servers."""
    username = next(_students)
    opened = [await Browser.open(pair, username), await Browser.open(pair, username)]
    yield opened
    for browser in opened:
        await browser.close()


# These sign in again and again: they run before the failed-login test below spends this
# address's allowance.
async def test_logout_closes_that_sessions_sockets_on_both_servers(browsers):
    leaving, staying = browsers
    response = await leaving.here.http.post("/api/v1/auth/logout")
    assert response.status_code == 204
    await leaving.signed_out()
    await staying.still_open()


async def test_password_change_closes_the_other_sessions_sockets_on_both_servers(browsers):
    changing, other = browsers
    response = await changing.there.http.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "seven-quiet-lanterns-drift"},
    )
    assert response.status_code == 204, response.text
    await other.signed_out()
    await changing.still_open()


async def test_deactivation_closes_every_socket_of_the_user_on_both_servers(pair, browsers):
    first, second = pair
    admin = await Person(second, "ada").login()
    bystander = await Person(first, "sam").login()
    try:
        watching = await bystander.socket()
        response = await admin.http.patch(
            f"/api/v1/users/{browsers[0].here.id}", json={"is_active": False}
        )
        assert response.status_code == 200, response.text
        for browser in browsers:
            await browser.signed_out()
        await watching.send({"op": "ping"})
        assert await watching.until("pong") == {"type": "pong"}
    finally:
        await admin.close()
        await bystander.close()


async def test_failed_logins_count_across_servers(pair):
    first, second = pair
    async with httpx.AsyncClient() as client:
        for attempt in range(10):
            server = (first, second)[attempt % 2]
            response = await client.post(
                f"{server.url}/api/v1/auth/login",
                json={"username": "student29", "password": "wrong-one"},
            )
            assert response.status_code == 401
        refused = await client.post(
            f"{first.url}/api/v1/auth/login",
            json={"username": "student29", "password": "wrong-again"},
        )
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1


@pytest.fixture
def own_redis_pair(tmp_path) -> Iterator[tuple[LiveServer, LiveServer, RedisProcess]]:
    redis_server = RedisProcess(tmp_path).start()
    env = cluster_env(tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite3'}", redis_server.url)
    prepare_database(env, {"sam": Role.STAFF, "rita": Role.USER})
    first, second = LiveServer(tmp_path, env).start(), LiveServer(tmp_path, env).start()
    yield first, second, redis_server
    first.stop()
    second.stop()
    redis_server.stop()


async def wait_for_broker(server: LiveServer, state: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            health = (await client.get(f"{server.url}/api/v1/health")).json()
            if health["broker"] == state:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"broker never became {state}")


async def test_a_redis_restart_loses_nothing_a_client_cannot_replay(own_redis_pair):
    first, second, redis_server = own_redis_pair
    rita = await Person(first, "rita").login()
    sam = await Person(second, "sam").login()
    try:
        ticket = await report(rita)
        room = f"ticket:{ticket['id']}"
        watcher = await sam.socket()
        _, joined = await watcher.join(room)
        since = joined["last_event_id"]
        redis_server.stop()
        await wait_for_broker(first, "unavailable")
        path = f"/api/v1/tickets/{ticket['id']}/messages"
        for n in range(5):  # HTTP keeps working without Redis
            response = await rita.http.post(path, json={"body": f"during the outage {n}"})
            assert response.status_code == 201
        redis_server.start()
        await wait_for_broker(second, "ok")
        closed = await watcher.until_closed()
        assert closed.rcvd.code == 1012, "the gap is announced so the client replays"
        for frame in watcher.seen:
            if frame.get("type") == "event" and frame["room"] == room:
                since = max(since, frame["id"])
        replayed, _ = await (await sam.socket()).join(room, since=since)
        seen = [
            f["data"]["body"] for f in watcher.seen + replayed if f.get("kind") == "message.created"
        ]
        assert sorted(set(seen)) == [f"during the outage {n}" for n in range(5)]
        assert len(seen) == len(set(seen)), "nothing shown twice"
    finally:
        await rita.close()
        await sam.close()


async def test_http_and_local_delivery_go_on_without_redis(own_redis_pair):
    first, _, redis_server = own_redis_pair
    rita = await Person(first, "rita").login()
    try:
        ticket = await report(rita)
        tab = await rita.socket()
        await tab.join(f"ticket:{ticket['id']}")
        redis_server.stop()
        response = await rita.http.post(
            f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "still here"}
        )
        assert response.status_code == 201
        local = await tab.until(
            lambda f: f.get("kind") == "message.created" and f["room"] == f"ticket:{ticket['id']}"
        )
        assert local["data"]["body"] == "still here"
        await wait_for_broker(first, "unavailable")
    finally:
        await rita.close()


@pytest.fixture
def worker_pool(tmp_path) -> Iterator[LiveServer]:
    redis_reachable(SHARED_REDIS)
    env = cluster_env(tmp_path, f"sqlite:///{tmp_path / 'pool.sqlite3'}", SHARED_REDIS)
    prepare_database(env, {"sam": Role.STAFF, "rita": Role.USER, "oscar": Role.USER})
    pool = LiveServer(tmp_path, env, workers=2).start()
    yield pool
    assert pool.stop() == 0


async def test_a_worker_pool_behaves_like_one_process(worker_pool):
    # A new connection each time: the kernel hands each to whichever worker accepts it.
    async with httpx.AsyncClient(headers={"Connection": "close"}) as client:
        nodes = set()
        for _ in range(60):
            nodes.add((await client.get(f"{worker_pool.url}/api/v1/health")).json()["node"])
            if len(nodes) == 2:
                break
        assert len(nodes) == 2, "both workers answer"
    rita, sam = await Person(worker_pool, "rita").login(), await Person(worker_pool, "sam").login()
    try:
        ticket = await report(rita)
        room = f"ticket:{ticket['id']}"
        tabs = [await person.socket() for person in (rita, sam) for _ in range(3)]
        for tab in tabs:
            await tab.join(room)
        await tabs[0].send({"op": "say", "room": room, "body": "Everyone?", "client_id": "x"})
        for tab in tabs:
            heard = await tab.until("event", kind="message.created")
            assert heard["data"]["body"] == "Everyone?"
    finally:
        await rita.close()
        await sam.close()


def test_more_workers_than_the_memory_broker_can_serve_are_refused(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpdesk.cli",
            "serve",
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{free_port()}",
        ],
        env=server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "memory:// broker only reaches its own process" in result.stderr
    assert "HELPDESK_BROKER_URL=redis://" in result.stderr
