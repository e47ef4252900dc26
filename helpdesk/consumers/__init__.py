"""Event-log consumers: each reads the log after its own durable cursor and acts on it, one
process of the cluster at a time (see base.py)."""

from __future__ import annotations

from .base import Chore, Consumer, Runner

__all__ = ["Chore", "Consumer", "Runner"]
