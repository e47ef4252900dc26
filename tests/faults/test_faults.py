"""Crashes, concurrent writers, a full disk, a read-only database: nothing acknowledged is lost,
nothing is stored twice, and every failure is a clear answer rather than a hang or a 500."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time

import pytest

from helpdesk import create_app
from helpdesk.models import Role
from tests.conftest import TICKET, make_user, settings_for, signed_in_client
from tests.live.helpers import FrameReader
from tests.live.server import LiveServer, Person, prepare_database, server_env
from tests.services import sqlite_copy

pytestmark = pytest.mark.live


@pytest.fixture
def crashing_server(tmp_path):
    env = server_env(tmp_path, chat_messages="10000", ws_rate_per_second="1000", ws_burst="1000")
    prepare_database(env, {"rita": Role.USER, "sam": Role.STAFF})
    server = LiveServer(tmp_path, env).start()
    yield server
    server.stop(signal.SIGKILL)


async def test_kill_9_mid_burst_loses_no_acknowledged_message(crashing_server):
    server = crashing_server
    rita, sam = await Person(server, "rita").login(), await Person(server, "sam").login()
    ticket = (await rita.http.post("/api/v1/tickets", json=TICKET)).json()
    room = f"ticket:{ticket['id']}"
    watcher = await sam.socket()
    _, joined = await watcher.join(room)
    writer = await rita.socket()
    sent = [f"burst-{n}" for n in range(400)]
    for client_id in sent:
        await writer.send({"op": "say", "room": room, "body": client_id, "client_id": client_id})
    acked: set[str] = set()
    while len(acked) < 40:  # let part of the burst through, then pull the plug mid-stream
        frame = await writer.next()
        if frame.get("type") == "ack":
            acked.add(frame["client_id"])
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    acked |= {f["client_id"] for f in await _drain(writer) if f.get("type") == "ack"}
    seen_live = {
        f["data"]["body"]
        for f in watcher.seen + await _drain(watcher)
        if f.get("kind") == "message.created"
    }

    server.start()  # same database, a fresh process
    rita.sockets.clear()
    sam.sockets.clear()
    stored = await _bodies(rita, ticket["id"])
    assert acked <= set(stored), "an acknowledged message was lost"
    assert len(stored) == len(set(stored)), "a message was stored twice"

    retry = await rita.socket()  # the client resends everything unacknowledged, same client_ids
    for client_id in sent:
        if client_id not in acked:
            await retry.send({"op": "say", "room": room, "body": client_id, "client_id": client_id})
    acks = 0
    while acks < len(sent) - len(acked):
        acks += (await retry.next()).get("type") == "ack"
    stored = await _bodies(rita, ticket["id"])
    assert sorted(stored) == sorted(sent), "each message exactly once"

    replayed, _ = await (await sam.socket()).join(room, since=joined["last_event_id"])
    replay_bodies = [f["data"]["body"] for f in replayed if f["kind"] == "message.created"]
    assert len(replay_bodies) == len(set(replay_bodies))
    assert set(replay_bodies) | seen_live == set(sent), "the watcher gets the rest by replay"
    await rita.close()
    await sam.close()


async def _drain(reader: FrameReader) -> list[dict]:
    try:
        return await reader.nothing_more(within=0.5)
    except Exception:  # the connection died with the server
        return []


async def _bodies(person: Person, ticket_id: int) -> list[str]:
    bodies, after = [], 0
    while True:
        page = (
            await person.http.get(f"/api/v1/tickets/{ticket_id}/messages?after={after}&limit=500")
        ).json()
        bodies += [message["body"] for message in page["items"]]
        if not page["has_more"]:
            return bodies
        after = page["items"][-1]["id"]


@pytest.fixture
def two_servers_one_sqlite_file(tmp_path):
    env = server_env(tmp_path, chat_messages="10000")
    prepare_database(env, {f"writer{n}": Role.USER for n in range(8)})
    servers = [LiveServer(tmp_path, env).start(), LiveServer(tmp_path, env).start()]
    yield servers
    for server in servers:
        server.stop()


async def test_concurrent_writers_on_sqlite_never_see_database_is_locked(
    two_servers_one_sqlite_file,
):
    servers = two_servers_one_sqlite_file
    people = [await Person(servers[n % 2], f"writer{n}").login() for n in range(8)]

    async def write(person: Person) -> list[int]:
        statuses = []
        for n in range(15):
            response = await person.http.post("/api/v1/tickets", json={**TICKET, "title": f"#{n}"})
            statuses.append(response.status_code)
            ticket = response.json()
            response = await person.http.post(
                f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "more detail"}
            )
            statuses.append(response.status_code)
        return statuses

    results = await asyncio.gather(*(write(person) for person in people))
    assert {status for statuses in results for status in statuses} == {201}
    for server in servers:
        assert "database is locked" not in server.log()
    for person in people:
        await person.close()


@pytest.mark.parametrize(
    ("pragma", "detail"),
    [
        ("query_only=1", "read-only"),  # the file cannot be written
        ("max_page_count={pages}", "full"),  # no room left on the disk
    ],
)
async def test_a_database_that_cannot_write_answers_503_quickly(
    tmp_path, sqlite_template, pragma, detail
):
    url = sqlite_copy(sqlite_template, tmp_path)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    writable = create_app(settings_for(tmp_path, database_url=url))
    async with writable.test_app():  # sign in and report while the database still takes writes
        rita = await signed_in_client(writable, await make_user("rita"))
        ticket = await (await rita.post("/api/v1/tickets", json=TICKET)).get_json()
        cookie = rita.cookie_jar
    app = create_app(settings_for(tmp_path, database_url=f"{url}?{pragma.format(pages=pages)}"))
    async with app.test_app():
        client = app.test_client()
        for item in cookie:
            client.set_cookie("localhost", item.name, item.value)
        started = time.monotonic()
        response = await client.post("/api/v1/tickets", json={**TICKET, "description": "x" * 9000})
        assert time.monotonic() - started < 3, "a clear answer, not a hang"
        assert response.status_code == 503, detail
        error = (await response.get_json())["error"]
        assert error["code"] == "unavailable"
        assert "try again" in error["detail"]
        assert (await client.get("/api/v1/tickets")).status_code == 200, "reading still works"
        async with client.websocket("/ws") as ws:
            reader = FrameReader(ws)
            await reader.send(
                {
                    "op": "say",
                    "room": f"ticket:{ticket['id']}",
                    "body": "x" * 5000,
                    "client_id": "x",
                }
            )
            refusal = await reader.until("error")
            assert (refusal["code"], refusal["client_id"]) == ("unavailable", "x")
