"""Mail from a real `helpdesk serve` to a real relay: not for what was seen live, never twice
across a kill -9, and carried on by the other process of a cluster when one dies."""

from __future__ import annotations

import asyncio
import signal
import time
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from tortoise.backends.base.executor import EXECUTOR_CACHE

from helpdesk import db
from helpdesk.config import load_settings
from helpdesk.models import MailState, OutboxMail, Role
from tests.live.server import LiveServer, Person, prepare_database, server_env
from tests.live.test_scale_out import cluster_env, report
from tests.mail.relay import Recorder, relay, relay_for
from tests.services import SHARED_REDIS, PostgresDatabase, redis_reachable, run_sync, unavailable

pytestmark = pytest.mark.live
QUICKLY = {"notify_delay_seconds": "0.3", "consumer_poll_seconds": "0.1"}


def mail_env(root: Path, relay_port: int, **settings: str) -> dict[str, str]:
    return server_env(root, smtp_url=f"smtp://127.0.0.1:{relay_port}", **QUICKLY, **settings)


async def reporter(server: LiveServer, username: str) -> Person:
    """A student who registered with an address (and so is signed in)."""
    person = Person(server, username)
    response = await person.http.post(
        "/api/v1/auth/register",
        json={"username": username, "password": "heater-broken-214", "email": f"{username}@x.edu"},
    )
    assert response.status_code == 201, response.text
    person.user = response.json()["user"]
    return person


async def answer(staff: Person, ticket: dict[str, Any], body: str = "Is it the whole floor?"):
    path = f"/api/v1/tickets/{ticket['id']}/messages"
    response = await staff.http.post(path, json={"body": body})
    assert response.status_code == 201, response.text


async def started(server: LiveServer) -> LiveServer:
    """Start it on a thread: the relay lives in this event loop and must go on answering."""
    return await asyncio.to_thread(server.start)


async def stopped(server: LiveServer, sig: int = signal.SIGTERM) -> int:
    """Stop it on a thread, so the relay answers the mail it may be sending as it stops."""
    return await asyncio.to_thread(server.stop, sig)


def outbox(env: dict[str, str]) -> list[dict[str, Any]]:
    """The server's outbox rows, oldest first, read from its database."""

    async def read() -> list[dict[str, Any]]:
        await db.open_database(load_settings(environ=env), create_schema=False)
        try:
            return list(
                await OutboxMail.all()
                .order_by("id")
                .values("to_address", "ticket_id", "state", "attempts")
            )
        finally:
            await db.close_database()

    return run_sync(read())


async def marked_sent(env: dict[str, str], count: int, within: float = 10.0) -> None:
    """Wait until `count` mails are marked sent (the relay's 250 reaches the sender after the
    relay has the mail)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        states = [row["state"] for row in await asyncio.to_thread(outbox, env)]
        if states.count(MailState.SENT) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} mails were marked sent")


def recipients(mails: list[Message]) -> list[str]:
    return [mail["To"].addresses[0].addr_spec for mail in mails]


async def test_a_reporter_watching_the_ticket_live_gets_no_mail(tmp_path):
    async with relay() as (recorder, port):
        env = mail_env(tmp_path, port)
        prepare_database(env, {"sam": Role.STAFF})
        server = await started(LiveServer(tmp_path, env))
        watching, away = await reporter(server, "maya"), await reporter(server, "omar")
        staff = await Person(server, "sam").login()
        try:
            open_ticket, left_ticket = await report(watching), await report(away)
            room = f"ticket:{open_ticket['id']}"
            tab = await watching.socket()
            await tab.join(room)
            await tab.until(
                lambda f: (
                    f.get("type") == "presence"
                    and watching.id in {viewer["id"] for viewer in f["viewers"]}
                )
            )
            # maya's reply comes first and she has the lower id: a mail to her would be due,
            # composed and sent no later than omar's, so his arrival proves hers never will.
            await answer(staff, open_ticket)
            await answer(staff, left_ticket)
            received = await recorder.wait_for(1, within=20)
            assert recipients(received) == ["omar@x.edu"]
            assert f"[#{left_ticket['id']}]" in str(received[0]["Subject"])
        finally:
            for person in (watching, away, staff):
                await person.close()
            assert await stopped(server) == 0, server.log()


class KillsTheSender(Recorder):
    """Takes the first mail, then kills the server that sent it with SIGKILL before answering:
    the relay has the mail, the server never hears the 250."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: LiveServer | None = None

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Envelope) -> str:  # noqa: N802
        if self.victim is not None and self.victim.process is not None:
            process, self.victim = self.victim.process, None
            # Blocking on purpose: at the next await, aiosmtpd sees the connection gone and
            # cancels this handler before it could keep the mail.
            process.kill()
            process.wait()
        return await super().handle_DATA(server, session, envelope)


async def test_a_kill_between_the_relays_accept_and_the_mark_sends_nothing_twice(tmp_path):
    recorder = KillsTheSender()
    async with relay_for(recorder) as port:
        env = mail_env(tmp_path, port)
        prepare_database(env, {"sam": Role.STAFF})
        server = recorder.victim = await started(LiveServer(tmp_path, env))
        first, second = await reporter(server, "maya"), await reporter(server, "omar")
        staff = await Person(server, "sam").login()
        try:
            for person in (first, second):
                await answer(staff, await report(person))
            killed = (await recorder.wait_for(1, within=20))[0]
            assert server.process is not None and server.process.returncode == -9
        finally:
            for person in (first, second, staff):
                await person.close()
        restarted = await started(LiveServer(tmp_path, env))
        try:
            received = await recorder.wait_for(2, within=20)
            assert sorted(recipients(received)) == ["maya@x.edu", "omar@x.edu"]
        finally:
            assert await stopped(restarted) == 0, restarted.log()
    states = {row["to_address"]: row["state"] for row in outbox(env)}
    assert len(recorder.received) == 2, "each mail reached the relay once"
    [killed_for] = recipients([killed])
    survivor = "omar@x.edu" if killed_for == "maya@x.edu" else "maya@x.edu"
    assert states == {killed_for: MailState.UNCERTAIN, survivor: MailState.SENT}


@pytest.fixture
def postgres_and_redis(tmp_path) -> Any:
    redis_reachable(SHARED_REDIS)
    # Tortoise keeps each model's INSERT text per connection name, whatever the dialect: this
    # process may have written to SQLite under that name already (see the `app` fixture).
    EXECUTOR_CACHE.clear()
    try:
        database = PostgresDatabase(tmp_path).create()
    except OSError as error:
        unavailable("PostgreSQL", error)
    yield database
    database.drop()


async def test_one_of_two_processes_sends_each_mail_and_the_other_takes_over_when_it_dies(
    tmp_path, postgres_and_redis
):
    lease = 2.0
    async with relay() as (recorder, port):
        env = cluster_env(
            tmp_path,
            postgres_and_redis.url,
            SHARED_REDIS,
            smtp_url=f"smtp://127.0.0.1:{port}",
            consumer_lease_seconds=str(lease),
            **QUICKLY,
        )
        prepare_database(env, {"sam": Role.STAFF})
        holder = await started(LiveServer(tmp_path, env))
        other: LiveServer | None = None
        student = await reporter(holder, "maya")
        staff = await Person(holder, "sam").login()
        try:
            tickets = [await report(student, title=f"Lift {n} stuck") for n in range(3)]
            await answer(staff, tickets[0])
            await recorder.wait_for(1, within=20)  # alone, it took both leases and keeps them
            other = await started(LiveServer(tmp_path, env))
            elsewhere = staff.on(other)
            await answer(elsewhere, tickets[1])
            await recorder.wait_for(2, within=20)
            await marked_sent(env, 2)  # killed mid-send, it would rightly be uncertain
            await stopped(holder, signal.SIGKILL)
            await answer(elsewhere, tickets[2])
            received = await recorder.wait_for(3, within=3 * lease + 10)
            assert [str(mail["Subject"]) for mail in received] == [
                f"[#{ticket['id']}] Lift {n} stuck" for n, ticket in enumerate(tickets)
            ]
            await elsewhere.close()
        finally:
            await student.close()
            await staff.close()
            await stopped(holder)
            if other is not None:
                assert await stopped(other) == 0, other.log()
    rows = outbox(env)
    assert [(row["state"], row["attempts"]) for row in rows] == [(MailState.SENT, 1)] * 3
