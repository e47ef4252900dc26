"""The server's permessage-deflate: a frame fanned out to many sockets is compressed once, and
what a client sends inflates no further than the frame limit, whatever it inflates to."""

from __future__ import annotations

import inspect
import json
import os
import zlib
from pathlib import Path

import pytest
from hypercorn.protocol import ws_stream
from websockets.exceptions import ConnectionClosed
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import CloseConnection, Event, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, FrameProtocol, Opcode, RsvBits

from helpdesk.config import Settings
from helpdesk.live import compression, failure
from helpdesk.live.compression import SHARED_FRAME_BYTES, WINDOW_BITS, CompactDeflate
from helpdesk.models import Role
from tests.live.raw_socket import RawSocket, deflated, frame, zeros
from tests.live.server import LiveServer, Person, prepare_database, server_env

PLAIN = RsvBits(False, False, False)
LIMIT = Settings.ws_max_frame_bytes  # the live server below runs with the default
BOMB = 60 * 1024 * 1024
PEAK_GROWTH_ALLOWED = 20 * 1024 * 1024


def negotiated() -> tuple[CompactDeflate, FrameProtocol]:
    extension = CompactDeflate(LIMIT)
    response = extension.accept("permessage-deflate; client_max_window_bits")
    assert isinstance(response, str) and "server_no_context_takeover" in response
    return extension, FrameProtocol(client=False, extensions=[extension])


def inflate(payload: bytes) -> bytes:
    return zlib.decompressobj(-WINDOW_BITS).decompress(payload + b"\x00\x00\xff\xff")


def test_the_same_frame_is_compressed_once_for_every_socket():
    frame = b'{"type":"event","room":"ticket:7","data":{"body":"The heater is fixed."}}' * 3
    sent = []
    for _ in range(3):
        extension, proto = negotiated()
        rsv, payload = extension.frame_outbound(proto, Opcode.TEXT, PLAIN, frame, True)
        assert rsv.rsv1  # marked compressed
        sent.append(payload)

    assert sent[0] is sent[1] is sent[2]
    assert len(sent[0]) < len(frame) and inflate(sent[0]) == frame


def test_each_message_stands_alone_so_any_socket_can_read_it():
    extension, proto = negotiated()
    first = b'{"type":"pong"}' * 20
    _, one = extension.frame_outbound(proto, Opcode.TEXT, PLAIN, first, True)
    _, two = extension.frame_outbound(proto, Opcode.TEXT, PLAIN, first, True)
    assert inflate(two) == first and one == two  # no reference to the message before
    assert extension._compressor is None  # nothing kept between messages


def test_a_large_frame_is_compressed_but_not_kept():
    extension, proto = negotiated()
    large = b"history " * (SHARED_FRAME_BYTES // 4)
    _, one = extension.frame_outbound(proto, Opcode.TEXT, PLAIN, large, True)
    _, two = extension.frame_outbound(proto, Opcode.TEXT, PLAIN, large, True)
    assert one == two and one is not two
    assert inflate(one) == large


def received(*frames: bytes) -> list[Event]:
    """What a server connection with the extension makes of these client frames."""
    extension = CompactDeflate(LIMIT)
    assert extension.accept("permessage-deflate")
    connection = Connection(ConnectionType.SERVER, extensions=[extension])
    connection.receive_data(b"".join(frames))
    return list(connection.events())


def message(*payloads: bytes, opcode: Opcode = Opcode.TEXT) -> list[bytes]:
    """A compressed message: RSV1 on its first frame, continuations after it."""
    last = len(payloads) - 1
    return [
        frame(opcode if n == 0 else Opcode.CONTINUATION, payload, fin=n == last, rsv1=n == 0)
        for n, payload in enumerate(payloads)
    ]


def text_of(events: list[Event]) -> str:
    assert all(isinstance(event, TextMessage) for event in events), events
    return "".join(event.data for event in events)


def test_a_message_inflating_past_the_limit_fails_the_connection_with_1009():
    events = received(*message(*deflated(zeros(BOMB))))
    assert events == [CloseConnection(code=CloseReason.MESSAGE_TOO_BIG, reason=events[-1].reason)]


def test_the_limit_counts_a_whole_message_across_its_continuation_frames():
    third = b"x" * (LIMIT // 3 + 1)
    events = received(*message(*deflated([third], [third], [third])))
    assert isinstance(events[-1], CloseConnection) and events[-1].code == 1009
    assert len(text_of(events[:-1])) <= LIMIT


def test_a_message_of_exactly_the_limit_arrives_whole_and_the_next_one_too():
    events = received(
        *message(*deflated([b"x" * (LIMIT // 2)], [b"y" * (LIMIT - LIMIT // 2)])),
        *message(*deflated([b"z" * LIMIT])),
    )
    assert text_of(events) == "x" * (LIMIT // 2) + "y" * (LIMIT - LIMIT // 2) + "z" * LIMIT


def test_a_message_ending_with_a_final_block_is_read_and_so_is_the_next():
    events = received(
        *message(*deflated([b"hello"], final_block=True)), *message(*deflated([b"again"]))
    )
    assert text_of(events) == "helloagain"


def test_bytes_after_a_final_block_fail_the_connection_instead_of_piling_up():
    (ended,) = deflated([b"hello"], final_block=True)
    events = received(*message(ended + os.urandom(256 * 1024)))
    assert events == [
        CloseConnection(code=CloseReason.INVALID_FRAME_PAYLOAD_DATA, reason=events[-1].reason)
    ]


@pytest.mark.parametrize(
    "name", ["frame_inbound_header", "frame_inbound_payload_data", "frame_inbound_complete"]
)
def test_the_wsproto_methods_it_replaces_are_still_called_as_it_expects(name):
    """CompactDeflate replaces wsproto's inbound side and keeps its state in wsproto's own
    attributes: an upgrade that renames either fails here, not in production."""
    ours, theirs = getattr(CompactDeflate, name), getattr(PerMessageDeflate, name)
    assert ours is not theirs
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)
    state = vars(PerMessageDeflate())
    assert {"_decompressor", "_inbound_compressed", "_inbound_is_compressible"} <= state.keys()
    assert isinstance(inspect.getattr_static(Connection, "state"), property)


def test_hypercorn_builds_its_sockets_from_what_install_puts_in():
    compression.install(LIMIT)
    failure.install()
    handshake = ws_stream.Handshake(
        [
            (b"host", b"127.0.0.1"),
            (b"connection", b"Upgrade"),
            (b"upgrade", b"websocket"),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            (b"sec-websocket-extensions", b"permessage-deflate"),
        ],
        "1.1",
    )
    _, headers, connection = handshake.accept(None, [])
    assert b"server_max_window_bits=12" in dict(headers)[b"sec-websocket-extensions"]
    assert isinstance(connection, failure.ClosingOnFailure)
    connection.receive_data(b"".join(message(*deflated(zeros(LIMIT + 1)))))
    (failed,) = connection.events()
    assert failed.code == 1009 and connection.state is ConnectionState.REMOTE_CLOSING
    assert connection.send(failed.response())[2:4] == (1009).to_bytes(2, "big")  # a close frame
    assert connection.state is ConnectionState.CLOSED


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("compression")
    env = server_env(root)
    prepare_database(env, {"rita": Role.USER})
    live = LiveServer(root, env).start()
    yield live
    live.stop()


@pytest.fixture
async def rita(server):
    person = await Person(server, "rita").login()
    yield person
    await person.close()


def peak_memory(pid: int) -> int:
    """The process's peak resident memory in bytes (VmHWM) since `reset_peak_memory`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def reset_peak_memory(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak to the current size


async def answers_a_ping(person: Person) -> bool:
    tab = await person.socket()
    await tab.send({"op": "ping"})
    return await tab.next() == {"type": "pong"}


@pytest.mark.live
@pytest.mark.parametrize("frames", [1, 3], ids=["one frame", "three continuation frames"])
async def test_a_compression_bomb_is_refused_with_1009_before_it_is_inflated(server, rita, frames):
    """About 60 KiB on the wire that inflate to 60 MB (in one frame, or a third in each of
    three): the server stops at the frame limit, not after inflating all of it."""
    pid = server.process.pid
    raw, agreed = await RawSocket.open(server.port, rita.cookie(), "permessage-deflate")
    try:
        assert agreed.startswith("permessage-deflate")
        bomb = deflated(*(zeros(BOMB // frames) for _ in range(frames)))
        reset_peak_memory(pid)
        before = peak_memory(pid)
        await raw.send_until_refused(b"".join(message(*bomb)))
        assert await raw.close_code() == 1009
    finally:
        raw.close()
    assert peak_memory(pid) - before < PEAK_GROWTH_ALLOWED
    assert await answers_a_ping(rita), "the other sockets are still served"


@pytest.mark.live
async def test_a_compressed_frame_of_exactly_the_limit_gets_its_answer(rita):
    tab = await rita.socket(max_size=None)  # the client compresses what it sends
    assert "permessage-deflate" in rita.sockets[-1].response.headers["Sec-WebSocket-Extensions"]
    padding = LIMIT - len(json.dumps({"op": "ping", "pad": ""}))
    await tab.send(json.dumps({"op": "ping", "pad": "x" * padding}))
    assert await tab.next() == {"type": "pong"}
    await tab.send(json.dumps({"op": "ping", "pad": "x" * (padding + 1)}))
    with pytest.raises(ConnectionClosed) as closed:
        await tab.next()
    assert closed.value.rcvd.code == 1009


@pytest.mark.live
async def test_a_broken_frame_gets_a_close_frame_with_its_code(server, rita):
    raw, _ = await RawSocket.open(server.port, rita.cookie(), "permessage-deflate")
    try:
        broken = bytearray(frame(Opcode.TEXT, b"{}"))
        broken[0] |= 0x20  # RSV2, which no extension here uses
        await raw.send(bytes(broken))
        assert await raw.close_code() == 1002
    finally:
        raw.close()


@pytest.mark.live
@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; server_max_window_bits=abc",
        'permessage-deflate; client_max_window_bits=""',
    ],
)
async def test_an_offer_with_unreadable_window_bits_is_served_uncompressed(server, rita, offer):
    raw, agreed = await RawSocket.open(server.port, rita.cookie(), offer)
    try:
        assert agreed == ""
    finally:
        raw.close()
    assert await answers_a_ping(rita)
