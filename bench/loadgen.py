"""The load generator: a separate process (pinned to its own core) that the orchestrator drives
over stdin/stdout, one JSON command per line and one JSON answer per line, so sockets opened
by one command can be measured by the next without paying Python start-up each time.

    {"task": "setup", "args": {"cookies": {...}}}
    {"task": "live", "args": {"target": {...}, "layout": {...}, ...}}
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from . import fleet, http_load, live

State = dict[str, Any]


async def _setup(state: State, cookies: dict[str, str]) -> dict[str, Any]:
    state["cookies"] = {int(user): cookie for user, cookie in cookies.items()}
    return {"users": len(cookies), "loop": type(asyncio.get_running_loop()).__module__}


def _with_target(
    work: Callable[..., Awaitable[dict[str, Any]]],
) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def run(state: State, target: dict[str, Any], **args: Any) -> dict[str, Any]:
        return await work(fleet.Target(**target), state["cookies"], **args)

    return run


TASKS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "setup": _setup,
    "live": _with_target(live.live),
    "idle_memory": _with_target(live.idle_memory),
    "write_load": _with_target(live.write_load),
    "soak": _with_target(live.soak),
    "cross_check": _with_target(live.cross_check),
    "http_latency": _with_target(http_load.latency),
    "http_throughput": _with_target(http_load.throughput),
}


async def serve() -> None:
    state: State = {"cookies": {}}
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        try:
            result = await TASKS[command["task"]](state, **command.get("args", {}))
            answer = {"ok": True, "result": result}
        except Exception:
            answer = {"ok": False, "error": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main() -> None:
    """uvloop when it is installed: the generator must stay faster than what it measures."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve())
    else:
        uvloop.run(serve())


if __name__ == "__main__":
    main()
