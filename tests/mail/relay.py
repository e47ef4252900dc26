"""A real SMTP relay for tests: aiosmtpd on a free port, in the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes
from email.message import Message
from email.policy import default
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword


class Recorder:
    """Takes every mail, or answers `refusals` (SMTP replies) to the next DATA commands."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.refusals: list[str] = []
        self.arrived = asyncio.Condition()

    async def handle_DATA(self, _server: SMTP, _session: Any, envelope: Envelope) -> str:  # noqa: N802
        if self.refusals:
            return self.refusals.pop(0)
        async with self.arrived:
            self.received.append(message_from_bytes(envelope.content, policy=default))
            self.arrived.notify_all()
        return "250 2.0.0 OK"

    async def wait_for(self, count: int, within: float = 5.0) -> list[Message]:
        async with self.arrived:
            await asyncio.wait_for(
                self.arrived.wait_for(lambda: len(self.received) >= count), within
            )
        return self.received


def only(username: str, password: str):
    def authenticate(_server, _session, _envelope, mechanism, data) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            username.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


@asynccontextmanager
async def relay(**smtp_options: Any) -> AsyncIterator[tuple[Recorder, int]]:
    recorder = Recorder()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(recorder, hostname="relay.test", **smtp_options), "127.0.0.1", 0
    )
    try:
        yield recorder, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def relay_for(recorder: Any, *, ssl: Any = None, **smtp_options: Any) -> AsyncIterator[int]:
    """A relay answering with `recorder` (a Recorder of the test's own kind), on TLS from the
    first byte when `ssl` is a server context (smtps); yields its port."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(recorder, hostname="relay.test", **smtp_options), "127.0.0.1", 0, ssl=ssl
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
