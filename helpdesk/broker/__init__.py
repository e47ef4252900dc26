"""Pub/sub between server processes, chosen by URL: `memory://` (one process) or `redis://`."""

from __future__ import annotations

from .base import Broker, BrokerUnavailable, Subscription
from .memory import MemoryBroker


def create_broker(url: str, namespace: str = "helpdesk") -> Broker:
    if url.startswith("memory://"):
        return MemoryBroker(namespace)
    if url.startswith(("redis://", "rediss://")):
        from .redis import RedisBroker

        return RedisBroker(url, namespace)
    raise ValueError(f"unsupported broker URL {url!r}; use memory:// or redis://")


__all__ = ["Broker", "BrokerUnavailable", "MemoryBroker", "Subscription", "create_broker"]
