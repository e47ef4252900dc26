"""Socket workloads, run inside the load generator: paced `say` traffic with end-to-end
latency, the fan-out sweep, idle sockets for memory, closed-loop writes, the soak and the
check across workers. Frames are counted by `fleet.Recorder` (see there what latency means).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from typing import Any

from .fleet import BODY, Fleet, LiveSocket, Recorder, Target, say_frame
from .resources import ServerMeter, Window
from .stats import summarize_ms

# --- paced traffic -------------------------------------------------------------------------------


async def paced(
    fleet: Fleet, rate: float, seconds: float, prefix: str, drain: float, meter: ServerMeter
) -> dict[str, Any]:
    """Send `rate` messages a second from random members of random rooms for `seconds`, then
    wait up to `drain` seconds for every delivery; returns what was measured."""
    recorder = Recorder()
    fleet.recorder = recorder
    closes_before = sum(fleet.unexpected_closes.values())
    board = len(fleet.board)
    rng = random.Random()
    total = max(1, round(rate * seconds))
    window = Window(meter)
    started = time.perf_counter()
    for n in range(total):
        delay = started + n / rate - time.perf_counter()
        await asyncio.sleep(delay if delay > 0 else 0)
        room, members = rng.choice(fleet.rooms)
        sender = rng.choice(members)
        client_id = f"{prefix}{n}"
        recorder.record_send(client_id, sender.index, len(members) - 1 + board, time.perf_counter())
        await sender.ws.send(say_frame(room, client_id))
    send_seconds = time.perf_counter() - started
    recorder.finish_sending()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(recorder.done.wait(), drain)
    usage = window.close()
    if not recorder.acked.is_set():  # overloaded: let the server finish its backlog first
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(recorder.acked.wait(), 30)
    fleet.recorder = None
    span = max(recorder.last_delivery - recorder.first_send, 1e-9)
    return {
        "rate": rate,
        "sent": total,
        "send_rate": total / send_seconds,
        "acks": recorder.acks,
        "expected": recorder.expected,
        "delivered": recorder.received,
        "lost": recorder.expected - recorder.received,
        "duplicates": recorder.duplicates,
        "echoes": recorder.echoes,
        "user_copies": recorder.user_copies,
        "delivered_per_second": recorder.received / span,
        "messages_per_second": recorder.acks / span,
        "latency_all": summarize_ms(recorder.ticket_latency + recorder.board_latency),
        "latency_ticket": summarize_ms(recorder.ticket_latency),
        "latency_board": summarize_ms(recorder.board_latency),
        "timeline": {
            second: summarize_ms(samples) for second, samples in recorder.by_second.items()
        },
        "errors": dict(recorder.errors),
        "closed": sum(fleet.unexpected_closes.values()) - closes_before,
        **usage,
    }


def judge(step: dict[str, Any], p99_ms: float) -> dict[str, Any]:
    """A step passes when everything arrived, nothing failed, the generator kept the pace and
    p99 stayed within `p99_ms`."""
    why = []
    if step["lost"]:
        why.append(f"{step['lost']} deliveries missing")
    if step["errors"] or step["closed"]:
        why.append(f"errors {step['errors']}, sockets closed {step['closed']}")
    if step["send_rate"] < 0.95 * step["rate"]:
        why.append(f"could only send {step['send_rate']:.0f}/s")
    p99 = step["latency_all"].get("p99_ms", float("inf"))
    if p99 > p99_ms:
        why.append(f"p99 {p99:.1f} ms")
    return {**step, "ok": not why, "why": "; ".join(why)}


async def sweep(
    fleet: Fleet,
    meter: ServerMeter,
    start_rate: float,
    seconds: float,
    refinements: int,
    p99_ms: float,
    max_rate: float = 100_000,
) -> dict[str, Any]:
    """Double the rate until a step fails, then bisect (geometrically) between the last pass and
    the first failure; the answer is the best passing step's delivered messages per second.
    A rate counts as failed only if it fails twice in a row."""
    steps: list[dict[str, Any]] = []

    async def step(rate: float, *, retried: bool = False) -> dict[str, Any]:
        result = judge(
            await paced(
                fleet,
                rate,
                seconds,
                f"sw{len(steps)}-{uuid.uuid4().hex[:6]}-",
                max(2.0, 2 * seconds),
                meter,
            ),
            p99_ms,
        )
        steps.append(result)
        if result["ok"] or retried:
            return result
        return await step(rate, retried=True)  # one stray stall must not end the sweep

    best: dict[str, Any] | None = None
    failed: float | None = None
    rate = start_rate
    while rate <= max_rate:
        result = await step(rate)
        if not result["ok"]:
            failed = rate
            break
        best = result
        rate *= 2
    while best is None and failed is not None and failed > start_rate / 16:
        rate = failed / 2  # even the first rate failed: look lower
        result = await step(rate)
        if result["ok"]:
            best = result
        else:
            failed = rate
    for _ in range(refinements):
        if best is None or failed is None:
            break
        rate = (best["rate"] * failed) ** 0.5
        result = await step(rate)
        if result["ok"]:
            best = result
        else:
            failed = rate
    return {"steps": steps, "best": best}


async def live(
    target: Target,
    cookies: dict[int, str],
    layout: dict[str, Any],
    steady_rate: float,
    steady_seconds: float,
    start_rate: float,
    step_seconds: float,
    refinements: int,
    p99_ms: float,
) -> dict[str, Any]:
    """The rooms of scenarios a and b: a steady rate first (b), then the fan-out sweep (a)."""
    fleet = Fleet(target, cookies)
    meter = ServerMeter(target.pids)
    opened = time.perf_counter()
    try:
        await fleet.open_layout(layout)
        connect_seconds = time.perf_counter() - opened
        await asyncio.sleep(0.3)
        await paced(fleet, start_rate, 0.5, f"warm-{uuid.uuid4().hex[:6]}-", 2.0, meter)
        steady = await paced(
            fleet, steady_rate, steady_seconds, f"st-{uuid.uuid4().hex[:6]}-", 5.0, meter
        )
        found = await sweep(fleet, meter, start_rate, step_seconds, refinements, p99_ms)
    finally:
        await fleet.close()
    return {
        "sockets": sum(len(room["members"]) for room in layout["rooms"]) + len(layout["board"]),
        "connect_seconds": connect_seconds,
        "steady": steady,
        **found,
    }


# --- idle sockets ----------------------------------------------------------------------------


async def idle_memory(
    target: Target, cookies: dict[int, str], sockets: list[list], counts: list[int]
) -> dict[str, Any]:
    """Server RSS before and after opening `counts` idle sockets (each joined to one room)."""
    fleet = Fleet(target, cookies)
    meter = ServerMeter(target.pids)
    specs = [(int(user), (room,)) for user, room in sockets]
    try:
        warm = Fleet(target, cookies)  # first sockets load code and caches: not per-socket cost
        await warm.open_many(specs[:20])
        await warm.close()
        await asyncio.sleep(0.3)
        baseline = meter.rss()
        points = []
        opened = 0
        started = time.perf_counter()
        for count in counts:
            await fleet.open_many(specs[opened:count])
            opened = count
            await asyncio.sleep(0.3)  # let the server finish the joins' work before measuring
            rss = meter.rss()
            points.append(
                {
                    "sockets": count,
                    "rss": rss,
                    "delta": rss - baseline,
                    "per_socket": (rss - baseline) / count,
                    "open_seconds": time.perf_counter() - started,
                }
            )
    finally:
        await fleet.close()
    return {"baseline_rss": baseline, "points": points, "closed": dict(fleet.unexpected_closes)}


# --- closed-loop writes ----------------------------------------------------------------------


async def write_load(
    target: Target, cookies: dict[int, str], writers: list[list], seconds: float
) -> dict[str, Any]:
    """Each writer socket says into its own ticket and waits for the ack before the next one:
    the stored-messages rate through the whole app, fan-out to nobody but the writer."""
    fleet = Fleet(target, cookies)
    meter = ServerMeter(target.pids)
    prefix = f"wr-{uuid.uuid4().hex[:8]}-"
    latencies: list[float] = []
    errors: Counter = Counter()
    try:
        sockets = await fleet.open_many([(int(user), ()) for user, _room in writers])
        deadline = time.perf_counter() + seconds

        async def write(socket: LiveSocket, room: str) -> None:
            n = 0
            while time.perf_counter() < deadline:
                client_id = f"{prefix}{socket.index}-{n}"
                n += 1
                sent = time.perf_counter()
                reply = await fleet.request(
                    socket,
                    {"op": "say", "room": room, "body": BODY, "client_id": client_id},
                    client_id,
                )
                if reply.get("type") == "ack":
                    latencies.append(time.perf_counter() - sent)
                else:
                    errors[reply.get("code")] += 1

        window = Window(meter)
        await asyncio.gather(
            *(write(s, room) for s, (_user, room) in zip(sockets, writers, strict=True))
        )
        usage = window.close()
    finally:
        await fleet.close()
    return {
        "prefix": prefix,
        "acked": len(latencies),
        "per_second": len(latencies) / usage["seconds"],
        "latency": summarize_ms(latencies),
        "errors": dict(errors),
        **usage,
    }


# --- soak ------------------------------------------------------------------------------------


async def soak(
    target: Target,
    cookies: dict[int, str],
    layout: dict[str, Any],
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    """Minutes of chat in many rooms; every message must be acked once, delivered once to every
    other member, and the server's memory must stay flat."""
    fleet = Fleet(target, cookies)
    meter = ServerMeter(target.pids)
    prefix = f"soak-{uuid.uuid4().hex[:8]}-"
    samples: list[tuple[float, int]] = []
    try:
        await fleet.open_layout(layout)
        await paced(
            fleet, rate, min(10.0, seconds / 10), f"soakwarm-{uuid.uuid4().hex[:6]}-", 5.0, meter
        )
        rss_start = meter.rss()
        started = time.perf_counter()

        async def sample() -> None:
            while True:
                samples.append((time.perf_counter() - started, meter.rss()))
                await asyncio.sleep(5)

        sampler = asyncio.create_task(sample())
        try:
            result = await paced(fleet, rate, seconds, prefix, 30.0, meter)
        finally:
            sampler.cancel()
        rss_end = meter.rss()
    finally:
        await fleet.close()
    return {
        "prefix": prefix,
        "sockets": sum(len(members) for _room, members in fleet.rooms) + len(fleet.board),
        "rss_start": rss_start,
        "rss_end": rss_end,
        "rss_samples": samples,
        **result,
    }


# --- across workers --------------------------------------------------------------------------


async def cross_check(
    target: Target, cookies: dict[int, str], board: list[int], writer: list, within: float = 5
) -> dict[str, Any]:
    """Board sockets spread over every worker; one message said on another connection must
    reach all of them (through the broker when they sit in other processes)."""
    fleet = Fleet(target, cookies)
    recorder = Recorder()
    try:
        watchers = await fleet.open_many([(user, ("board",)) for user in board])
        user, room = writer
        sender = await fleet.open(int(user), (), index=len(watchers) + 1)
        fleet.recorder = recorder
        client_id = f"x-{uuid.uuid4().hex}"
        recorder.record_send(client_id, sender.index, len(watchers), time.perf_counter())
        recorder.finish_sending()
        await sender.ws.send(say_frame(room, client_id))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(recorder.done.wait(), within)
    finally:
        await fleet.close()
    return {
        "watchers": len(board),
        "received": recorder.received,
        "acked": recorder.acks,
        "errors": dict(recorder.errors),
    }
