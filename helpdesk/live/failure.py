"""A connection that fails (a broken frame, a message inflating past the limit) still gets a
close frame saying why.

wsproto reports a frame it cannot accept as a `CloseConnection` event carrying the code (1002,
1007, 1009) and leaves the connection open; Hypercorn answers a close event with a close frame
only when the peer is closing, so it drops such a connection bare and the client sees 1006.
Reporting the failed connection as closing from the other side makes Hypercorn answer it with
the failure's code before it closes the TCP connection (RFC 6455 7.1.7).
"""

from __future__ import annotations

from collections.abc import Generator

from hypercorn.protocol import ws_stream
from wsproto.connection import Connection, ConnectionState
from wsproto.events import CloseConnection, Event


class ClosingOnFailure(Connection):
    """A wsproto connection whose failures read as the peer closing, so they get answered."""

    failed = False

    @property
    def state(self) -> ConnectionState:
        state = super().state
        if self.failed and state is ConnectionState.OPEN:
            return ConnectionState.REMOTE_CLOSING
        return state

    def events(self) -> Generator[Event, None, None]:
        for event in super().events():
            if isinstance(event, CloseConnection) and self.state is ConnectionState.OPEN:
                self.failed = True  # a close frame from the peer would have left OPEN already
            yield event


def install() -> None:
    """Make Hypercorn's WebSocket handshake build `ClosingOnFailure` connections (idempotent)."""
    ws_stream.Connection = ClosingOnFailure  # type: ignore[misc]
