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
"""

from __future__ import annotations

import zlib
from functools import lru_cache

from hypercorn.protocol import ws_stream
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameDecoder, FrameProtocol, Opcode, RsvBits

WINDOW_BITS = 12
MEMORY_LEVEL = 5
ZLIB_LARGEST_WINDOW_BITS = 15
SHARED_FRAMES = 256  # recently compressed frames kept for the other sockets they go to
SHARED_FRAME_BYTES = 16 * 1024  # larger frames are rare (history pages): compressed each time


@lru_cache(maxsize=SHARED_FRAMES)
def _shared(data: bytes, window_bits: int) -> bytes:
    return _compress(data, window_bits)


def _compress(data: bytes, window_bits: int) -> bytes:
    """One whole message, compressed on its own (RFC 7692 section 7.2.1)."""
    compressor = zlib.compressobj(
        zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -window_bits, MEMORY_LEVEL
    )
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


class CompactDeflate(PerMessageDeflate):
    """Asks for a 4 KiB window both ways (RFC 7692 lets the server set its own window in the
    response, and the client's when the client offers `client_max_window_bits`)."""

    def __init__(self) -> None:
        super().__init__(
            client_max_window_bits=WINDOW_BITS,
            server_max_window_bits=WINDOW_BITS,
            server_no_context_takeover=True,
        )

    def accept(self, offer: str) -> bool | str | None:
        client_bits, server_bits = self._parse_params(offer)
        if client_bits is None:  # the client did not agree to compress with a smaller window
            self.client_max_window_bits = ZLIB_LARGEST_WINDOW_BITS
        response = super().accept(offer)
        if not isinstance(response, str) or server_bits is not None:
            return response
        ours = f"server_max_window_bits={self.server_max_window_bits}"
        return f"{response}; {ours}" if response else ours

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


def install() -> None:
    """Make Hypercorn's WebSocket handshake offer `CompactDeflate` (idempotent)."""
    ws_stream.PerMessageDeflate = CompactDeflate  # type: ignore[misc]
