"""The /ws endpoint: one socket per browser tab, a receive task and a send loop per socket."""

from __future__ import annotations

import asyncio
import logging
import time

from quart import Blueprint, Response, websocket
from quart.wrappers import Websocket
from tortoise.exceptions import OperationalError

from ..domain.access import check_room, parse_ticket_room
from ..domain.activity import events_after, last_event_id
from ..domain.messages import post_message
from ..domain.reads import mark_read, read_markers
from ..domain.serialize import user_ref
from ..errors import Conflict, HelpdeskError, NotFound, RateLimited, TooLarge, ValidationFailed
from ..web.context import HelpdeskApp, services
from ..web.security import is_cross_site
from ..web.sessions import current_session
from . import frames
from .connection import CloseCode, Connection, TokenBucket
from .protocol import (
    ClientFrame,
    FrameError,
    Join,
    Leave,
    Ping,
    Read,
    Say,
    Typing,
    error_frame,
    parse_frame,
)

log = logging.getLogger(__name__)
blueprint = Blueprint("live", __name__)
TYPING_INTERVAL = 1.0  # at most one typing frame per second per room from one socket


def socket_error_code(error: HelpdeskError) -> str:
    """The one mapping from domain errors to the socket's error codes."""
    if isinstance(error, ValidationFailed):
        return "bad_request"
    if isinstance(error, Conflict):
        return "conflict"
    if isinstance(error, RateLimited):
        return "rate_limited"
    if isinstance(error, TooLarge):
        return "too_large"
    if error.status in (403, 404):
        return "forbidden"  # a missing ticket answers like someone else's
    if error.status == 503:
        return "unavailable"
    return "bad_request"


@blueprint.websocket("/ws")
async def live_socket() -> Response | None:
    """Refuse the handshake (403 foreign origin, 401 no session, 429 too many of the user's
    sockets open here) or serve the socket."""
    app = services()
    if is_cross_site(websocket.headers, websocket.scheme, app.settings.allowed_origins):
        return Response("cross-site socket refused", status=403)
    session = await current_session()
    if session is None:
        return Response("sign in first", status=401)
    connection = Connection(
        session.user, session.session_key, queue_size=app.settings.ws_queue_size
    )
    most = app.settings.ws_sockets_per_user
    if not app.hub.admit(connection, most=most):
        return Response(
            f"this account has {most} sockets open here already, the most it may: close a tab",
            status=429,
        )
    try:
        await websocket.accept()
    except BaseException:
        app.hub.detach(connection)  # the handshake never finished: give its place back
        raise
    await LiveSession(app, websocket._get_current_object(), connection).run()
    return None


class LiveSession:
    """Runs one socket: frames in, frames out, rooms joined, and the cleanup when it ends."""

    def __init__(self, app: HelpdeskApp, ws: Websocket, connection: Connection) -> None:
        self.app = app
        self.ws = ws
        self.connection = connection
        self.user = connection.user
        self.hub = app.hub
        settings = app.settings
        self.bucket = TokenBucket(settings.ws_rate_per_second, settings.ws_burst)
        self.max_violations = settings.ws_violations_before_close
        self.max_frame = settings.ws_max_frame_bytes
        self.max_rooms = settings.ws_rooms_per_socket
        self.violations = 0
        self.typed_at: dict[str, float] = {}

    async def run(self) -> None:
        """Serve a socket the hub admitted in the handshake; it is detached when this ends."""
        sender = asyncio.create_task(self._send_loop())
        receiver = asyncio.create_task(self._receive_loop())
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if self.connection.close_code is not None and not sender.done():
                await asyncio.wait_for(asyncio.shield(sender), timeout=5)
        finally:
            for task in (sender, receiver):
                task.cancel()
            for outcome in await asyncio.gather(sender, receiver, return_exceptions=True):
                if isinstance(outcome, Exception):  # a bug, not a client leaving: say so
                    log.error("socket task failed", exc_info=outcome)
            await asyncio.shield(self._cleanup())

    async def _cleanup(self) -> None:
        for room in self.hub.detach(self.connection):
            if parse_ticket_room(room) is not None:
                await self._announce_presence(room, entering=False)

    async def _send_loop(self) -> None:
        while True:
            frame = await self.connection.next_frame()
            if frame is None:
                code = self.connection.close_code or CloseCode.GOING_AWAY
                await self.ws.close(int(code), self.connection.close_reason)
                return
            await self.ws.send(frame)

    async def _receive_loop(self) -> None:
        while True:
            raw = await self.ws.receive()
            if raw is None:  # how Quart hands over an empty binary frame
                raw = b""
            if len(raw) > self.max_frame:
                self.connection.close(CloseCode.TOO_BIG, "frame too large")
                return
            if not self.bucket.take():
                self.violations += 1
                if self.violations >= self.max_violations:
                    self.connection.close(CloseCode.POLICY, "too many frames")
                    return
                self.connection.send(error_frame("rate_limited", "slow down", None))
                continue
            self.violations = 0
            await self._handle_raw(raw)
            await asyncio.sleep(0)  # let the sender and other sockets run between frames

    async def _handle_raw(self, raw: str | bytes) -> None:
        client_id = None
        try:
            frame = parse_frame(raw)
            client_id = getattr(frame, "client_id", None)
            await self.handle(frame)
        except FrameError as error:
            self.connection.send(error.frame())
        except HelpdeskError as error:
            self.connection.send(error_frame(socket_error_code(error), error.detail, client_id))
        except OperationalError:
            log.exception("database refused a socket operation")
            self.connection.send(
                error_frame("unavailable", "cannot save right now; try again shortly", client_id)
            )

    async def handle(self, frame: ClientFrame) -> None:
        if isinstance(frame, Ping):
            self.connection.send(frames.PONG)
        elif isinstance(frame, Join):
            await self.join(frame.room, frame.since)
        elif isinstance(frame, Leave):
            await self.leave(frame.room)
        elif isinstance(frame, Say):
            await self.say(frame)
        elif isinstance(frame, Typing):
            await self.typing(frame)
        elif isinstance(frame, Read):
            await self.read(frame)

    async def join(self, room: str, since: int | None) -> None:
        """Subscribe first, replay the log, then release what arrived meanwhile: nothing is lost."""
        connection = self.connection
        if room not in connection.rooms and len(connection.rooms) >= self.max_rooms:
            raise FrameError(
                "too_large", f"this socket is in {self.max_rooms} rooms already: leave one first"
            )
        await check_room(self.user, room)
        connection.start_buffering(room)
        self.hub.join(connection, room)
        reset = False
        try:
            if since is None:
                last = await last_event_id(self.user, room)
            else:
                limit = self.app.settings.replay_limit
                missed = await events_after(self.user, room, since, limit + 1)
                if len(missed) > limit:
                    reset, last = True, await last_event_id(self.user, room)
                else:
                    for event in missed:
                        await self.ws.send(event.frame)
                    last = missed[-1].id if missed else since
        except BaseException:
            connection.stop_buffering(room, 0)
            self.hub.leave(connection, room)
            raise
        newest = connection.stop_buffering(room, last)
        connection.send(frames.joined(room, newest, reset=reset))
        ticket_id = parse_ticket_room(room)
        if ticket_id is not None:
            connection.send(frames.reads(room, await read_markers(self.user, ticket_id)))
            await self._announce_presence(room, entering=True)

    async def leave(self, room: str) -> None:
        if room in self.connection.rooms:
            self.hub.leave(self.connection, room)
            if parse_ticket_room(room) is not None:
                await self._announce_presence(room, entering=False)
        self.connection.send(frames.left(room))

    async def say(self, frame: Say) -> None:
        ticket_id = parse_ticket_room(frame.room)
        if ticket_id is None:
            raise NotFound(f"you cannot write to {frame.room}")
        posted = await post_message(
            self.app.message_writer,
            self.app.allowances,
            self.user,
            ticket_id,
            frame.body,
            internal=frame.internal,
            client_id=frame.client_id,
            attachment_ids=frame.attachment_ids,
            upload_limits=self.app.uploads.limits,
        )
        self.connection.send(frames.ack(frame.client_id, posted.event_id, posted.message.id))

    async def typing(self, frame: Typing) -> None:
        if frame.room not in self.connection.rooms or parse_ticket_room(frame.room) is None:
            raise NotFound(f"join {frame.room} before typing in it")
        if frame.internal and not self.user.is_staff:
            raise NotFound("internal notes are for staff")
        now = time.monotonic()
        if now - self.typed_at.get(frame.room, 0.0) < TYPING_INTERVAL:
            return
        self.typed_at[frame.room] = now
        await self.hub.broadcast(
            frame.room,
            frames.typing(frame.room, self.user, internal=frame.internal),
            staff_only=frame.internal,
            skip=self.connection.id,
        )

    async def read(self, frame: Read) -> None:
        ticket_id = parse_ticket_room(frame.room)
        if ticket_id is None:
            raise NotFound(f"{frame.room} has no messages")
        await mark_read(self.app.event_log, self.user, ticket_id, frame.message_id)

    async def _announce_presence(self, room: str, *, entering: bool) -> None:
        presence = self.app.presence
        if entering:
            viewers = await presence.enter(room, self.connection.id, user_ref(self.user))
        else:
            viewers = await presence.leave(room, self.connection.id)
        await self.hub.broadcast(room, frames.presence(room, viewers))
