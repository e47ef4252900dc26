"""HTTP workloads, run inside the load generator: request latency one at a time (httpx), and
throughput from many concurrent clients (a raw keep-alive client), each with its own session."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
import orjson

from .config import COOKIE_NAME
from .fleet import Target
from .rawhttp import RawHttp
from .resources import ServerMeter, Window
from .stats import summarize_ms


def _client(target: Target, cookies: dict[int, str], user: int, index: int) -> httpx.AsyncClient:
    """One client (one keep-alive connection) per simulated user; the bare ceiling gets the same
    cookie header so requests are the same size."""
    return httpx.AsyncClient(
        base_url=target.http_urls[index % len(target.http_urls)],
        headers={"Cookie": f"{COOKIE_NAME}={cookies[user]}"},
        timeout=60,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


async def latency(
    target: Target,
    cookies: dict[int, str],
    user: int,
    path: str,
    requests: int,
    first: int = 0,
    warmup: int = 3,
) -> dict[str, Any]:
    """`requests` GETs one after another: what one user waits for, without queueing. A `{n}`
    in `path` becomes first, first + 1, ... (warm-up requests included) so that each request
    can ask for something different."""
    samples: list[float] = []
    statuses: Counter = Counter()
    size = 0
    content_type = ""
    async with _client(target, cookies, user, 0) as client:
        for n in range(warmup + requests):
            started = time.perf_counter()
            response = await client.get(path.replace("{n}", str(first + n)))
            elapsed = time.perf_counter() - started
            statuses[response.status_code] += 1
            if response.status_code == 404 and n == 0:
                return {
                    "statuses": {"404": 1},
                    "latency": {"count": 0},
                    "bytes": 0,
                    "content_type": "",
                }
            size = len(response.content)
            content_type = response.headers.get("content-type", "")
            if n >= warmup:
                samples.append(elapsed)
    return {
        "statuses": {str(code): count for code, count in statuses.items()},
        "latency": summarize_ms(samples),
        "bytes": size,
        "content_type": content_type,
    }


async def throughput(
    target: Target,
    cookies: dict[int, str],
    users: list[int],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    seconds: float,
) -> dict[str, Any]:
    """Each user sends requests back to back on its own connection for `seconds` (over the raw
    client: httpx would be the bottleneck); counts answers by status."""
    meter = ServerMeter(target.pids)
    statuses: Counter = Counter()
    samples: list[float] = []
    payload = orjson.dumps(body) if body is not None else b""
    clients = [
        RawHttp(
            target.http_urls[i % len(target.http_urls)],
            {"Cookie": f"{COOKIE_NAME}={cookies[user]}"},
        )
        for i, user in enumerate(users)
    ]
    try:
        await asyncio.gather(*(client.connect() for client in clients))
        deadline = time.perf_counter() + seconds

        async def run(client: RawHttp) -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status, _ = await client.request(method, path, payload)
                samples.append(time.perf_counter() - started)
                statuses[status] += 1

        window = Window(meter)
        await asyncio.gather(*(run(client) for client in clients))
        usage = window.close()
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    succeeded = sum(count for code, count in statuses.items() if 200 <= code < 300)
    return {
        "concurrency": len(users),
        "statuses": {str(code): count for code, count in statuses.items()},
        "succeeded": succeeded,
        "per_second": succeeded / usage["seconds"],
        "latency": summarize_ms(samples),
        **usage,
    }
