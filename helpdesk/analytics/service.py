"""Summaries served from a short-lived cache, and pushed to the board when tickets change:
at most one recomputation per interval however many changes arrive (coalescing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from ..broker import Broker, BrokerUnavailable
from ..domain.events import BOARD_ROOM
from ..encoding import dumps
from ..live.hub import Hub
from .queries import Window, summarize

log = logging.getLogger(__name__)
LIVE_WINDOW = Window()


def analytics_frame(summary: dict[str, Any]) -> str:
    """An event frame without an id: it is not logged, so it is never replayed."""
    return dumps(
        {
            "type": "event",
            "room": BOARD_ROOM,
            "kind": "analytics.updated",
            "data": summary,
            "at": summary["generated_at"],
        }
    )


class Analytics:
    def __init__(self, hub: Hub, broker: Broker, interval: float) -> None:
        self.hub = hub
        self.broker = broker
        self.interval = interval
        self.generation = 0  # bumped by every change; a cached summary is only as good as it
        self.recomputations = 0
        self._cache: dict[Window, tuple[int, float, dict[str, Any]]] = {}
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        hub.on_change(self.changed)

    def changed(self) -> None:
        self.generation += 1
        self._dirty.set()

    async def summary(self, window: Window) -> dict[str, Any]:
        cached = self._cache.get(window)
        if cached is not None:
            generation, stamp, summary = cached
            if generation == self.generation and time.monotonic() - stamp < self.interval:
                return summary
        generation = self.generation
        summary = await summarize(window)
        self.recomputations += 1
        self._cache[window] = (generation, time.monotonic(), summary)
        return summary

    async def start(self) -> None:
        self._task = asyncio.create_task(self._push(), name="analytics-push")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _push(self) -> None:
        """Wait for a change, recompute once, tell the board, rest for an interval, repeat.

        Across processes one of them claims each interval; the others try again after it.
        """
        while True:
            await self._dirty.wait()
            try:
                claimed = await self.broker.claim(self.broker.key("analytics"), self.interval)
            except BrokerUnavailable:
                claimed = True  # alone for now: better a duplicate push than none
            if claimed:
                self._dirty.clear()
                try:
                    summary = await self.summary(LIVE_WINDOW)
                    await self.hub.broadcast(BOARD_ROOM, analytics_frame(summary), staff_only=True)
                except Exception:
                    log.exception("could not push the analytics summary")
            await asyncio.sleep(self.interval)
