"""The server's permessage-deflate: a frame fanned out to many sockets is compressed once."""

from __future__ import annotations

import zlib

from wsproto.frame_protocol import FrameProtocol, Opcode, RsvBits

from helpdesk.live.compression import SHARED_FRAME_BYTES, WINDOW_BITS, CompactDeflate

PLAIN = RsvBits(False, False, False)


def negotiated() -> tuple[CompactDeflate, FrameProtocol]:
    extension = CompactDeflate()
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
