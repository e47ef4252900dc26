"""The ceilings, each run as its own process on the server's core:

- `ws`: a bare `websockets` broadcast server (no auth, no database) with the app's room pattern:
  a `say` in `ticket:<id>` goes to that room, the `board` and the reporter's `user:<id>` room as
  the same `event` frames the app sends, then the sender gets its `ack`;
- `http`: a bare ASGI JSON app served by Hypercorn with the app's own hypercorn.toml;
- `storage`: raw aiosqlite writes of the rows the app writes for one message (the `message` row,
  one `event` row per room, the message's `event_id`), one transaction per message.

    python -m bench.ceilings ws --port 9001 --rooms rooms.json
    python -m bench.ceilings http --port 9002
    python -m bench.ceilings storage --database copy.sqlite3 --seconds 3 --rooms rooms.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from .config import REPO_ROOT


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def message_data(
    message_id: int, ticket_id: int, author: int, body: str, client_id: str | None
) -> str:
    """A message in the API form the app logs, with a made-up author of the same shape."""
    return _dumps(
        {
            "id": message_id,
            "ticket_id": ticket_id,
            "author": {
                "id": author,
                "username": f"user{author:06d}",
                "display_name": f"User {author}",
                "role": "user",
            },
            "body": body,
            "internal": False,
            "created_at": _now_iso(),
            "client_id": client_id,
        }
    )


def fanout_rooms(room: str, reporters: dict[int, int]) -> list[str]:
    """Where the app logs a public message: the ticket's room, the board, the reporter."""
    ticket_id = int(room.partition(":")[2])
    return [room, "board", f"user:{reporters[ticket_id]}"]


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


# --- live path -------------------------------------------------------------------------------


async def serve_ws(port: int, reporters: dict[int, int]) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    rooms: dict[str, set[ServerConnection]] = defaultdict(set)
    message_ids = itertools.count(1)
    event_ids = itertools.count(1)

    async def say(ws: ServerConnection, user: int, frame: dict) -> None:
        room, client_id = frame["room"], frame.get("client_id")
        message_id = next(message_ids)
        data = message_data(message_id, int(room.partition(":")[2]), user, frame["body"], client_id)
        at = _now_iso()
        room_event = 0
        for target in fanout_rooms(room, reporters):
            event_id = next(event_ids)
            room_event = room_event or event_id
            broadcast(
                rooms.get(target, ()),
                f'{{"type":"event","id":{event_id},"room":{_dumps(target)},'
                f'"kind":"message.created","data":{data},"at":"{at}"}}',
            )
        await ws.send(
            _dumps(
                {
                    "type": "ack",
                    "client_id": client_id,
                    "event_id": room_event,
                    "message_id": message_id,
                }
            )
        )

    async def handler(ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path if ws.request else "").query)
        user = int(query.get("user", ["0"])[0])
        joined = {f"user:{user}"}
        rooms[f"user:{user}"].add(ws)
        try:
            async for raw in ws:
                frame = orjson.loads(raw)
                op = frame.get("op")
                if op == "say":
                    await say(ws, user, frame)
                elif op == "join":
                    rooms[frame["room"]].add(ws)
                    joined.add(frame["room"])
                    await ws.send(
                        _dumps({"type": "joined", "room": frame["room"], "last_event_id": 0})
                    )
                elif op == "ping":
                    await ws.send('{"type":"pong"}')
        finally:
            for room in joined:
                rooms[room].discard(ws)

    async with serve(handler, "127.0.0.1", port, max_size=65536, ping_interval=20):
        await _until_stopped()


# --- HTTP ------------------------------------------------------------------------------------


_payloads: dict[int, bytes] = {}


def _payload(size: int) -> bytes:
    """A JSON body of about `size` bytes, built once per size."""
    if size not in _payloads:
        item = {"id": 1, "title": "Printer jammed in Library room 12", "status": "open"}
        items, body = [], b""
        while len(body) < size:
            items.append(item)
            body = orjson.dumps({"items": items, "next_cursor": None})
        _payloads[size] = body
    return _payloads[size]


async def bare_app(scope: dict, receive: Any, send: Any) -> None:
    """GET answers a JSON body of `?bytes=` size; POST echoes the JSON it got with an id, 201."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "POST":
        status, reply = 201, orjson.dumps({"id": 1, "version": 1, **orjson.loads(body or b"{}")})
    else:
        size = int(parse_qs(scope.get("query_string", b"").decode()).get("bytes", ["64"])[0])
        status, reply = 200, _payload(min(size, 1_000_000))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(reply)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": reply})


async def serve_http(port: int) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config.from_toml(REPO_ROOT / "hypercorn.toml")
    config.bind = [f"127.0.0.1:{port}"]
    await serve(bare_app, config, shutdown_trigger=_until_stopped)  # type: ignore[arg-type]


# --- storage ---------------------------------------------------------------------------------


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")


async def write_messages(database: Path, seconds: float, reporters: dict[int, int]) -> dict:
    """As many messages as fit in `seconds`, each in its own transaction, as the app commits."""
    import aiosqlite

    tickets = sorted(reporters.items())
    async with aiosqlite.connect(database, isolation_level=None) as db:
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            await db.execute(f"PRAGMA {pragma}")
        await db.execute("PRAGMA busy_timeout=5000")
        count = 0
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            ticket_id, reporter = tickets[count % len(tickets)]
            client_id = f"raw-{count}"
            now = _stamp()
            await db.execute("BEGIN")
            cursor = await db.execute(
                "INSERT INTO message (body, internal, created_at, client_id, author_id, ticket_id)"
                " VALUES (?, 0, ?, ?, ?, ?)",
                ("The projector in this room flickers again.", now, client_id, reporter, ticket_id),
            )
            message_id = cursor.lastrowid or 0
            data = message_data(message_id, ticket_id, reporter, "body", client_id)
            event_ids = []
            for room in fanout_rooms(f"ticket:{ticket_id}", reporters):
                cursor = await db.execute(
                    "INSERT INTO event (room, kind, data, staff_only, created_at)"
                    " VALUES (?, 'message.created', ?, 0, ?)",
                    (room, data, now),
                )
                event_ids.append(cursor.lastrowid)
            await db.execute(
                "UPDATE message SET event_id = ? WHERE id = ?", (event_ids[0], message_id)
            )
            await db.execute("COMMIT")
            count += 1
        elapsed = time.perf_counter() - started
    return {"messages": count, "seconds": elapsed, "per_second": count / elapsed}


# --- command line ----------------------------------------------------------------------------


def _reporters(path: str) -> dict[int, int]:
    return {
        int(ticket): reporter for ticket, reporter in json.loads(Path(path).read_text()).items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceilings")
    commands = parser.add_subparsers(dest="command", required=True)
    ws = commands.add_parser("ws")
    ws.add_argument("--port", type=int, required=True)
    ws.add_argument("--rooms", required=True, help="JSON: ticket id -> reporter id")
    http = commands.add_parser("http")
    http.add_argument("--port", type=int, required=True)
    storage = commands.add_parser("storage")
    storage.add_argument("--database", type=Path, required=True)
    storage.add_argument("--seconds", type=float, required=True)
    storage.add_argument("--rooms", required=True, help="JSON: ticket id -> reporter id")
    args = parser.parse_args(argv)
    if args.command == "ws":
        asyncio.run(serve_ws(args.port, _reporters(args.rooms)))
    elif args.command == "http":
        asyncio.run(serve_http(args.port))
    else:
        result = asyncio.run(write_messages(args.database, args.seconds, _reporters(args.rooms)))
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
