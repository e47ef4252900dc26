"""The orchestrator's side of the load generator: start it pinned, send commands, get answers."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from .server import Child, Children


class LoadGenFailed(RuntimeError):
    """The command raised in the load generator, or it did not answer in time."""


class LoadGen:
    def __init__(self, children: Children, cores: frozenset[int] | None) -> None:
        self.children = children
        self.cores = cores
        self.child: Child | None = None
        self.cookies: dict[int, str] = {}

    @property
    def pid(self) -> int:
        assert self.child is not None
        return self.child.pid

    async def start(self, cookies: dict[int, str]) -> None:
        self.cookies = cookies
        self.child = await self.children.spawn(
            "loadgen", [sys.executable, "-m", "bench.loadgen"], cores=self.cores, pipes=True
        )
        await self.call(
            "setup", 60, cookies={str(user): cookie for user, cookie in cookies.items()}
        )

    async def call(self, task: str, within: float, **args: Any) -> dict[str, Any]:
        """Run one task; after a timeout the generator is restarted, since its state is unknown."""
        assert self.child is not None
        process = self.child.process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write((json.dumps({"task": task, "args": args}) + "\n").encode())
        await process.stdin.drain()
        try:
            line = await asyncio.wait_for(process.stdout.readline(), within)
        except TimeoutError:
            await self.restart()
            raise LoadGenFailed(f"{task} did not finish within {within:.0f} s") from None
        if not line:
            log = self.child.log_tail()
            await self.restart()
            raise LoadGenFailed(f"the load generator exited during {task}:\n{log}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise LoadGenFailed(f"{task} failed in the load generator:\n{answer['error']}")
        return answer["result"]

    async def restart(self) -> None:
        if self.child is not None:
            await self.child.stop(grace=2)
            self.children.forget(self.child)
        await self.start(self.cookies)
