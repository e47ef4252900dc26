"""The broker interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

Subscription = AsyncIterator[str]


class BrokerUnavailable(ConnectionError):
    """The broker cannot be reached; local delivery goes on and clients catch up by replay."""


class Broker(ABC):
    """Text messages on channels; every subscriber of a channel, in any process, gets them."""

    def __init__(self, namespace: str = "helpdesk") -> None:
        self.namespace = namespace

    def key(self, name: str) -> str:
        """A channel or key name of this helpdesk: several can share one Redis."""
        return f"{self.namespace}:{name}"

    async def connect(self) -> None:  # noqa: B027 - optional hook
        """Open connections; called once when the app starts serving."""

    async def disconnect(self) -> None:  # noqa: B027 - optional hook
        """Close connections; called once when the app stops."""

    @abstractmethod
    async def publish(self, channel: str, message: str) -> None:
        """Send `message`; raises BrokerUnavailable when it cannot."""

    @abstractmethod
    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """Receive the channel's messages for as long as the context is open."""

    @abstractmethod
    async def claim(self, key: str, seconds: float) -> bool:
        """Take `key` for `seconds` unless someone holds it: one process does a shared chore."""

    @abstractmethod
    async def hold(self, key: str, owner: str, seconds: float) -> bool:
        """Take `key` for `owner` for `seconds`, or extend it if `owner` holds it already:
        a lease that one process keeps while it runs and another takes once it lapses."""

    @abstractmethod
    async def release(self, key: str, owner: str) -> None:
        """Give `key` up if `owner` holds it, so another process need not wait for it to lapse."""
