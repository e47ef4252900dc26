"""The client-to-server frames of /ws, parsed strictly, and the server's error frames."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..domain.fields import AttachmentIds, ClientId, EventCursor, Id, MessageText, Text
from ..encoding import dumps, loads

Room = Annotated[str, Field(min_length=1, max_length=64), Text]


class Op(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Join(Op):
    op: Literal["join"]
    room: Room
    since: EventCursor | None = None


class Leave(Op):
    op: Literal["leave"]
    room: Room


class Say(Op):
    op: Literal["say"]
    room: Room
    body: MessageText = ""
    internal: bool = False
    client_id: ClientId | None = None
    attachment_ids: AttachmentIds = []


class Typing(Op):
    op: Literal["typing"]
    room: Room
    internal: bool = False


class Read(Op):
    op: Literal["read"]
    room: Room
    message_id: Id


class Ping(Op):
    op: Literal["ping"]


ClientFrame = Annotated[Join | Leave | Say | Typing | Read | Ping, Field(discriminator="op")]
_frames: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


class FrameError(Exception):
    """A frame the server refuses; becomes an `error` frame, and the socket stays open."""

    def __init__(self, code: str, detail: str, client_id: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.client_id = client_id

    def frame(self) -> str:
        return error_frame(self.code, self.detail, self.client_id)


def error_frame(code: str, detail: str, client_id: str | None = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if client_id is not None:
        body["client_id"] = client_id
    return dumps(body)


def _client_id_of(raw: Any) -> str | None:
    value = raw.get("client_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def parse_frame(text: str | bytes) -> ClientFrame:
    """Parse one frame or raise FrameError saying exactly what is wrong with it."""
    if isinstance(text, bytes):
        raise FrameError("bad_request", "send JSON text frames, not binary ones")
    try:
        raw = loads(text)
    except ValueError:
        raise FrameError("bad_request", "the frame is not JSON") from None
    if not isinstance(raw, dict):
        raise FrameError("bad_request", "the frame must be a JSON object")
    client_id = _client_id_of(raw)
    try:
        return _frames.validate_python(raw)
    except ValidationError as error:
        raise _describe(error, raw, client_id) from None


def _describe(error: ValidationError, raw: dict, client_id: str | None) -> FrameError:
    first = error.errors()[0]
    kind = first["type"]
    location = ".".join(str(part) for part in first["loc"][1:]) or "op"
    if kind == "union_tag_not_found":
        return FrameError("bad_request", "op is missing", client_id)
    if kind == "union_tag_invalid":
        return FrameError("bad_request", f"unknown op {raw.get('op')!r}", client_id)
    if kind == "string_too_long" and location == "body":
        return FrameError("too_large", f"body: {first['msg']}", client_id)
    return FrameError("bad_request", f"{location}: {first['msg']}", client_id)
