"""A WebSocket client written by hand, for frames no well-behaved client sends (RFC 6455)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
import zlib
from collections.abc import Iterable, Iterator

from wsproto.frame_protocol import Opcode

FIN, RSV1, MASKED = 0x80, 0x40, 0x80
SYNC_FLUSH_TAIL = b"\x00\x00\xff\xff"


def deflated(*parts: Iterable[bytes], final_block: bool = False) -> list[bytes]:
    """One message as permessage-deflate sends it: one deflate stream, a payload (a frame) per
    part, each part compressed a piece at a time. A sender may end the stream with a final
    block instead of stripping the flush marker (RFC 7692 7.2.3.4)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    payloads = [
        b"".join(compressor.compress(piece) for piece in part) + compressor.flush(zlib.Z_SYNC_FLUSH)
        for part in parts
    ]
    if final_block:
        payloads[-1] += compressor.flush(zlib.Z_FINISH)
    else:
        payloads[-1] = payloads[-1][: -len(SYNC_FLUSH_TAIL)]
    return payloads


def zeros(total: int, piece: int = 1 << 20) -> Iterator[bytes]:
    """`total` zero bytes, a piece at a time (never all of them in memory)."""
    for start in range(0, total, piece):
        yield bytes(min(piece, total - start))


def frame(opcode: Opcode, payload: bytes, *, fin: bool = True, rsv1: bool = False) -> bytes:
    """A client frame: masked, with RSV1 marking a compressed message when asked."""
    head = bytearray([(FIN if fin else 0) | (RSV1 if rsv1 else 0) | opcode])
    if len(payload) < 126:
        head.append(MASKED | len(payload))
    elif len(payload) < 1 << 16:
        head += bytes([MASKED | 126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([MASKED | 127]) + struct.pack("!Q", len(payload))
    mask = os.urandom(4)
    key = int.from_bytes((mask * (len(payload) // 4 + 1))[: len(payload)], "big")
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(len(payload), "big")
    return bytes(head) + mask + masked


class RawSocket:
    """One connection to /ws over a plain socket (read with `sock_recv`: bytes that arrived
    before the server closed stay readable, whereas a stream reader reports a reset first)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = bytearray()

    @classmethod
    async def open(cls, port: int, cookie: str, extensions: str) -> tuple[RawSocket, str]:
        """Upgrade with `Sec-WebSocket-Extensions: extensions`; returns what the server agreed."""
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        raw = cls(sock)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Extensions: {extensions}\r\nCookie: {cookie}\r\n\r\n"
        )
        await raw.send(request.encode())
        while b"\r\n\r\n" not in raw.received:
            await raw._receive_more()
        head, _, rest = bytes(raw.received).partition(b"\r\n\r\n")
        raw.received = bytearray(rest)
        status, *lines = head.decode("latin-1").split("\r\n")
        assert status.startswith("HTTP/1.1 101"), head
        headers = dict(line.lower().split(": ", 1) for line in lines)
        return raw, headers.get("sec-websocket-extensions", "")

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def send_until_refused(self, data: bytes) -> None:
        """Send what the server still reads: it may close mid-way once it refuses a message."""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await self.send(data)

    async def _receive_more(self) -> None:
        data = await asyncio.get_running_loop().sock_recv(self.sock, 1 << 16)
        if not data:
            raise ConnectionError("the server closed without a close frame")
        self.received += data

    async def _take(self, size: int) -> bytes:
        while len(self.received) < size:
            await self._receive_more()
        taken = bytes(self.received[:size])
        del self.received[:size]
        return taken

    async def close_code(self) -> int:
        """Read the server's frames (pings, anything else) until its close frame: its code."""
        while True:
            first, second = await self._take(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self._take(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self._take(8))
            payload = await self._take(length)
            if first & 0x0F == Opcode.CLOSE:
                return struct.unpack("!H", payload[:2])[0]

    def close(self) -> None:
        self.sock.close()
