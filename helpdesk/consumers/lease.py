"""A lease on the broker: the one process of the cluster that runs a chore holds it."""

from __future__ import annotations

import contextlib
import uuid

from ..broker import Broker, BrokerUnavailable


class Lease:
    """Held by renewing it before it lapses; when its holder stops, another process takes it."""

    def __init__(self, broker: Broker, name: str, seconds: float) -> None:
        self.broker = broker
        self.key = broker.key(f"lease:{name}")
        self.seconds = seconds
        self.owner = uuid.uuid4().hex

    async def hold(self) -> bool:
        """Take or renew the lease; True while this process holds it."""
        return await self.broker.hold(self.key, self.owner, self.seconds)

    async def release(self) -> None:
        with contextlib.suppress(BrokerUnavailable):  # it lapses on its own
            await self.broker.release(self.key, self.owner)
