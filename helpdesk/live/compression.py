"""permessage-deflate with small windows and each message compressed on its own, so an idle
socket holds no compressor and a frame sent to many sockets is compressed once.

Hypercorn negotiates wsproto's `PerMessageDeflate` with zlib's defaults: a 32 KiB window and
memLevel 8, about 256 KiB of compressor state per socket once it has sent one frame, and it
offers no setting to change that. Chat frames are a few hundred bytes, so a 4 KiB window
compresses them as well. These are the settings the `websockets` library uses by default
(window bits 12, memLevel 5); `install()` puts them into Hypercorn.

The server also says `server_no_context_takeover` (RFC 7692 lets it, offered or not): each
message it sends is compressed without reference to the ones before. That costs some ratio on
a long chat, but the same frame then compresses to the same bytes for every socket, so an event
fanned out to a room and the board is compressed once, and no socket keeps a compressor
between messages.

What a client sends is inflated at most one byte past the frame limit (`ws_max_frame_bytes`,
counted over a whole message): wsproto would inflate a frame whole before Hypercorn's size
check sees any of it, and a 57 KiB frame of zeros inflates to 60 MB.
"""

from __future__ import annotations

import zlib
from functools import lru_cache, partial

from hypercorn.protocol import ws_stream
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol, Opcode, RsvBits

WINDOW_BITS = 12
MEMORY_LEVEL = 5
ZLIB_LARGEST_WINDOW_BITS = 15
SHARED_FRAMES = 256  # recently compressed frames kept for the other sockets they go to
SHARED_FRAME_BYTES = 16 * 1024  # larger frames are rare (history pages): compressed each time
SYNC_FLUSH_TAIL = b"\x00\x00\xff\xff"  # what a sender strips from each message (RFC 7692 7.2.1)


@lru_cache(maxsize=SHARED_FRAMES)
def _shared(data: bytes, window_bits: int) -> bytes:
    return _compress(data, window_bits)


def _compress(data: bytes, window_bits: int) -> bytes:
    """One whole message, compressed on its own (RFC 7692 section 7.2.1)."""
    compressor = zlib.compressobj(
        zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -window_bits, MEMORY_LEVEL
    )
    compressed = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return compressed[: -len(SYNC_FLUSH_TAIL)]


class CompactDeflate(PerMessageDeflate):
    """Asks for a 4 KiB window both ways (RFC 7692 lets the server set its own window in the
    response, and the client's when the client offers `client_max_window_bits`), and fails a
    connection with 1009 once a message inflates past `max_message_bytes`."""

    def __init__(self, max_message_bytes: int) -> None:
        super().__init__(
            client_max_window_bits=WINDOW_BITS,
            server_max_window_bits=WINDOW_BITS,
            server_no_context_takeover=True,
        )
        self.max_message_bytes = max_message_bytes
        self._inflated = 0  # bytes of the message being received, inflated so far

    def accept(self, offer: str) -> bool | str | None:
        try:
            client_bits, server_bits = self._parse_params(offer)
        except ValueError:  # window bits that are no number: decline, serve uncompressed
            return None
        if client_bits is None:  # the client did not agree to compress with a smaller window
            self.client_max_window_bits = ZLIB_LARGEST_WINDOW_BITS
        response = super().accept(offer)
        if not isinstance(response, str) or server_bits is not None:
            return response
        ours = f"server_max_window_bits={self.server_max_window_bits}"
        return f"{response}; {ours}" if response else ours

    # The three inbound methods replace wsproto's, which inflate without a bound (wsproto 1.3).
    def frame_inbound_header(
        self,
        proto: FrameDecoder | FrameProtocol,
        opcode: Opcode,
        rsv: RsvBits,
        payload_length: int,
    ) -> CloseReason | RsvBits:
        if self._inbound_compressed is None:  # the first frame of a message
            self._inflated = 0
        return super().frame_inbound_header(proto, opcode, rsv, payload_length)

    def frame_inbound_payload_data(
        self, proto: FrameDecoder | FrameProtocol, data: bytes
    ) -> bytes | CloseReason:
        if not (self._inbound_compressed and self._inbound_is_compressible):
            return super().frame_inbound_payload_data(proto, data)
        return self._inflate(bytes(data))

    def frame_inbound_complete(
        self, proto: FrameDecoder | FrameProtocol, fin: bool
    ) -> bytes | CloseReason | None:
        if not (fin and self._inbound_compressed and self._inbound_is_compressible):
            return super().frame_inbound_complete(proto, fin)
        assert self._decompressor is not None
        # A sender may end a message with a final block instead of a flush (RFC 7692 7.2.3.4):
        # its stream is over, and the next message starts a new one.
        ended = self._decompressor.eof
        tail = b"" if ended else self._inflate(SYNC_FLUSH_TAIL)
        fresh_each_message = (
            self.server_no_context_takeover if proto.client else self.client_no_context_takeover
        )
        if ended or fresh_each_message:
            self._decompressor = None
        self._inbound_compressed = None
        return tail

    def _inflate(self, data: bytes) -> bytes | CloseReason:
        """Inflate at most one byte past the limit: enough to know the message is too big."""
        assert self._decompressor is not None
        room = self.max_message_bytes - self._inflated
        try:
            inflated = self._decompressor.decompress(data, room + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        if self._decompressor.unused_data:  # bytes after a final block would pile up unread
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        if len(inflated) > room:
            return CloseReason.MESSAGE_TOO_BIG
        self._inflated += len(inflated)
        return inflated

    def frame_outbound(
        self,
        proto: FrameDecoder | FrameProtocol,
        opcode: Opcode,
        rsv: RsvBits,
        data: bytes,
        fin: bool,
    ) -> tuple[RsvBits, bytes]:
        if fin and opcode in (Opcode.TEXT, Opcode.BINARY) and not proto.client:
            # A whole message in one frame: how the server sends every message.
            data = bytes(data)
            bits = self.server_max_window_bits
            compress = _shared if len(data) <= SHARED_FRAME_BYTES else _compress
            return RsvBits(True, rsv[1], rsv[2]), compress(data, bits)
        if self._compressor is None and opcode in (Opcode.TEXT, Opcode.BINARY):
            self._compressor = zlib.compressobj(
                zlib.Z_DEFAULT_COMPRESSION,
                zlib.DEFLATED,
                -self.server_max_window_bits,
                MEMORY_LEVEL,
            )
        return super().frame_outbound(proto, opcode, rsv, data, fin)


def install(max_message_bytes: int) -> None:
    """Make Hypercorn's WebSocket handshake offer `CompactDeflate` (idempotent)."""
    ws_stream.PerMessageDeflate = partial(CompactDeflate, max_message_bytes)  # type: ignore[misc]
