"""Server-to-client frames that are not logged events: built in one place, serialized once.

The `read` frame is built by the domain (`domain.reads.read_frame`), which sends it itself.
"""

from __future__ import annotations

from typing import Any

from ..domain.serialize import user_ref
from ..encoding import dumps
from ..models import User

PONG = dumps({"type": "pong"})


def joined(room: str, last_event_id: int, *, reset: bool = False) -> str:
    frame: dict[str, Any] = {"type": "joined", "room": room, "last_event_id": last_event_id}
    if reset:
        frame["reset"] = True  # too much was missed to replay: reload the state over HTTP
    return dumps(frame)


def left(room: str) -> str:
    return dumps({"type": "left", "room": room})


def ack(client_id: str | None, event_id: int, message_id: int) -> str:
    return dumps(
        {"type": "ack", "client_id": client_id, "event_id": event_id, "message_id": message_id}
    )


def typing(room: str, user: User, *, internal: bool) -> str:
    return dumps({"type": "typing", "room": room, "user": user_ref(user), "internal": internal})


def presence(room: str, viewers: list[dict[str, Any]]) -> str:
    return dumps({"type": "presence", "room": room, "viewers": viewers})


def reads(room: str, markers: list[dict[str, Any]]) -> str:
    return dumps({"type": "reads", "room": room, "markers": markers})
