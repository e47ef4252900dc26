"""Hostile frames on /ws: every bad frame is answered with an error frame, the socket stays open
(a ping after it still gets its pong), and nothing is logged at ERROR.

The app runs with the per-socket rate limit raised (see FUZZ_OVERRIDES), and every example
opens a socket of its own and closes it again.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from helpdesk.encoding import loads
from tests.fuzz.conftest import World
from tests.fuzz.support import BOUNDARY_INTS, fuzz_settings, json_values, logged_errors
from tests.live.helpers import FrameReader

pytestmark = pytest.mark.asyncio(loop_scope="module")  # the shared world lives on it
READ_TIMEOUT = 3.0
ERROR_CODES = {"bad_request", "forbidden", "too_large", "rate_limited", "conflict", "unavailable"}
ANSWER_TYPES = {"error", "pong", "joined", "left", "ack", "event", "presence", "reads", "read"}
OPS = ("join", "leave", "say", "typing", "read", "ping")
ROOMS = (
    "board",
    "user:1",
    "user:3",
    *(f"ticket:{number}" for number in (1, 2, 3, 4, 0, 2**31, 2**63 - 1, 2**63)),
    "ticket:01",
    "ticket:\u0661\u0662",  # Arabic-Indic digits: isdigit() but not ASCII
    "",
    "x" * 65,
)
# Each field's values that mean something to the server: existing and missing rows, the
# integer limits, the body and client_id length limits.
FIELDS: dict[str, tuple[Any, ...]] = {
    "room": ROOMS,
    "body": ("Still cold", " ", "\x00", "é🦄", "a" * 5_001),
    "since": (0, 1, 10**6, *BOUNDARY_INTS),
    "client_id": ("c1", "c2", "", "x" * 65),
    "internal": (True, False),
    "message_id": (1, 2, 3, *BOUNDARY_INTS),
}


def of_any_type(*plausible: Any) -> st.SearchStrategy[Any]:
    """A field's plausible values three times in four, any JSON value otherwise."""
    return st.one_of(*[st.sampled_from(plausible)] * 3, json_values)


@st.composite
def frame_objects(draw: st.DrawFn) -> dict[str, Any]:
    """An op (mostly a real one), then each field: mostly a meaningful value, sometimes
    absent, sometimes of any type."""
    frame: dict[str, Any] = {"op": draw(of_any_type(*OPS), label="op")}
    for name, values in FIELDS.items():
        presence = draw(st.sampled_from(["absent", "meaningful", "meaningful", "any"]), name)
        if presence == "meaningful":
            frame[name] = draw(st.sampled_from(values), label=name)
        elif presence == "any":
            frame[name] = draw(json_values, label=name)
    return frame


ODD_FRAMES = (
    "",
    " ",
    "{}",
    "[]",
    "null",
    '{"op": null}',
    '{"op": "PING"}',
    '{"op": "join"}',
    '{"op": "say", "body": "hi"}',
    "\x00",
    b"\xff",
)
malformed_frames: st.SearchStrategy[str | bytes] = st.one_of(
    st.sampled_from(ODD_FRAMES),
    st.text(max_size=40),
    json_values.filter(lambda value: not isinstance(value, dict)).map(json.dumps),
    # Not empty: Quart's test transport cannot carry an empty binary frame at all (Hypercorn
    # can; tests/live/test_server.py sends one over a real socket).
    st.binary(min_size=1, max_size=40),
)
ACTOR = st.sampled_from(["reporter", "other", "staff", "admin"])


def parsed(frame: str | bytes) -> Any:
    """The JSON value of a text frame, or None for binary frames and text that is not JSON."""
    if isinstance(frame, bytes):
        return None
    try:
        return loads(frame)
    except ValueError:
        return None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def must_be_refused(frame: str | bytes) -> bool:
    """Frames the README's protocol can only refuse, judged independently of the server's own
    parser: binary, not JSON, not an object, no known op, or a field an op needs missing or of
    the wrong JSON type. (Frames passing this may still be refused, e.g. a room one may not
    join, or out-of-range values.)"""
    value = parsed(frame)
    if not isinstance(value, dict) or value.get("op") not in OPS:
        return True
    op = value["op"]
    room = value.get("room")
    wrong = [
        op != "ping" and not (isinstance(room, str) and 1 <= len(room) <= 64),
        op == "say" and not isinstance(value.get("body"), str),
        op == "read" and not is_int(value.get("message_id")),
        op == "join" and not (value.get("since") is None or is_int(value["since"])),
        op == "say" and not isinstance(value.get("client_id", ""), str | None),
        op in ("say", "typing") and not isinstance(value.get("internal", False), bool),
    ]
    return any(wrong)


def assert_answer_shape(frame: dict[str, Any], sent: str | bytes) -> None:
    assert isinstance(frame, dict) and frame.get("type") in ANSWER_TYPES, (sent, frame)
    if frame["type"] == "error":
        assert frame.get("code") in ERROR_CODES, (sent, frame)
        assert isinstance(frame.get("detail"), str), (sent, frame)


async def next_frame(ws: Any, reader: FrameReader, after: str | bytes) -> dict[str, Any]:
    """The next frame from the server; fails at once, not at a timeout, when the socket's
    handler has ended (Quart's test connection runs it in its `_task`)."""
    handler = getattr(ws, "_task", None)
    receiving = asyncio.ensure_future(reader.next(READ_TIMEOUT))
    waiting = {receiving, handler} if isinstance(handler, asyncio.Future) else {receiving}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if receiving.done():
        return receiving.result()
    receiving.cancel()
    assert handler is not None
    raise AssertionError(f"the socket died after {after!r}: {handler.exception()!r}")


async def exchange(
    world: World, caplog: pytest.LogCaptureFixture, actor: str, sent: list[str | bytes]
) -> None:
    """Send each frame followed by a ping on a fresh socket: what arrives before the pong
    answers that frame. Every answer is well-formed, a frame that can only be refused gets
    exactly one error, the pong proves the socket is still open, and nothing is logged."""
    client = await world.client(actor)
    caplog.clear()
    async with client.websocket("/ws") as ws:
        reader = FrameReader(ws)
        for frame in sent:
            await ws.send(frame)
            await reader.send({"op": "ping"})
            answers = []
            value = parsed(frame)
            is_ping = isinstance(value, dict) and value.get("op") == "ping"
            pongs = 2 if is_ping else 1  # a fuzzed ping gets its own pong
            while pongs:
                answer = await next_frame(ws, reader, frame)
                if answer == {"type": "pong"}:
                    pongs -= 1
                    continue
                assert_answer_shape(answer, frame)
                answers.append(answer)
            if must_be_refused(frame):
                assert [a.get("type") for a in answers] == ["error"], (frame, answers)
                assert answers[0]["code"] in ("bad_request", "too_large"), (frame, answers)
    errors = logged_errors(caplog.records)
    assert not errors, f"{actor} sent {sent!r}; logged:\n" + "\n".join(errors)


@fuzz_settings(60)
@given(actor=ACTOR, sent=st.lists(malformed_frames, min_size=1, max_size=3))
async def test_malformed_frames_are_refused_and_the_socket_stays_open(
    world: World, caplog: pytest.LogCaptureFixture, actor: str, sent: list[str | bytes]
) -> None:
    """Not JSON, JSON that is not an object, binary frames, empty frames."""
    await exchange(world, caplog, actor, sent)


@fuzz_settings(200)
@given(actor=ACTOR, sent=st.lists(frame_objects().map(json.dumps), min_size=1, max_size=3))
# Found by the fuzzers (on PostgreSQL); pinned so that every run tries them.
@example(actor="reporter", sent=['{"op": "join", "room": "ticket:2147483648"}'])
@example(actor="staff", sent=['{"op": "read", "room": "ticket:1", "message_id": 2147483648}'])
@example(actor="staff", sent=['{"op": "say", "room": "ticket:1", "body": "\\u0000"}'])
async def test_any_op_with_any_fields_is_answered_and_the_socket_stays_open(
    world: World, caplog: pytest.LogCaptureFixture, actor: str, sent: list[str | bytes]
) -> None:
    """Objects with random op/room/body/since/client_id/internal/message_id of random types,
    aimed at rooms and messages that exist, that do not, and at the integer limits."""
    await exchange(world, caplog, actor, sent)
