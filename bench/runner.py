"""One run from start to finish: a temp dir, the ceilings and the seeded database in parallel,
the app, the scenarios (or the soak), the results files; every process stopped at the end."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import machine, report, scenarios
from .config import GOALS, REPO_ROOT, Scale
from .loadgen_client import LoadGen
from .population import Layout, Plan
from .report import Row, verdict
from .seed import copy_database, seed, stored_messages
from .server import Children, Server, app_env, free_port, start_app, wait_ready


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Options:
    scale: Scale
    soak: bool
    minutes: float | None
    only: set[str] | None
    pin: bool
    keep: bool
    results: Path
    deflate: bool = True
    profile: Path | None = None
    app_settings: dict[str, str] = field(default_factory=dict)

    @property
    def diagnostic(self) -> str:
        """Why this run's figures are not the official ones (empty when they are)."""
        reasons = []
        if self.only:
            reasons.append("--only ran part of the scenarios")
        if self.profile:
            reasons.append("--profile slowed the app down")
        if not self.deflate:
            reasons.append("--no-deflate changed the clients")
        if self.app_settings:
            reasons.append(f"--app-setting changed the app: {self.app_settings}")
        return "; ".join(reasons)


def _git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "helpdesk"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in helpdesk/" if dirty else "")


@asynccontextmanager
async def workspace(keep: bool) -> AsyncIterator[tuple[Path, Children]]:
    """A temp dir and the registry of child processes; both cleaned up however the run ends."""
    root = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    (root / "logs").mkdir()
    children = Children(root / "logs")
    try:
        yield root, children
    finally:
        await asyncio.shield(children.stop_all())
        if keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


PROFILE_FORMATS = {".svg": "flamegraph", ".json": "speedscope"}


@asynccontextmanager
async def profiling(
    children: Children, app: Server, output: Path | None, cores: frozenset[int] | None
) -> AsyncIterator[None]:
    """Sample the app with py-spy (on the load generator's core) while the scenarios run:
    a flame graph for .svg, speedscope for .json, folded stacks otherwise."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if output is None or spy is None:
        if output is not None:
            log("py-spy is not installed (pip install py-spy): no profile")
        yield
        return
    child = await children.spawn(
        "py-spy",
        [
            spy,
            "record",
            "--pid",
            str(app.pids[0]),
            "--subprocesses",
            "--format",
            PROFILE_FORMATS.get(output.suffix, "raw"),
            "--output",
            str(output),
        ],
        cores=cores,
    )
    try:
        yield
    finally:
        await child.interrupt()
        children.forget(child)
        log(f"profile of the app written to {output}")


async def _start_ceiling(children: Children, cores: machine.Cores, kind: str, *args: str) -> Server:
    port = free_port()
    child = await children.spawn(
        f"ceiling-{kind}",
        [sys.executable, "-m", "bench.ceilings", kind, "--port", str(port), *args],
        cores=cores.server,
    )
    server = Server(f"ceiling-{kind}", [child], [port])
    await wait_ready(server)
    return server


async def _prepare(root: Path, children: Children, options: Options) -> scenarios.Bench:
    """Ceilings start while the database is seeded; then the load generator and the app."""
    scale = options.scale
    cores = machine.plan_cores(options.pin)
    if cores.loadgen:
        machine.set_affinity(0, cores.loadgen)  # the orchestrator stays off the server's core
    plan = Plan.for_scale(scale)
    layout = Layout.build(plan, scale.rooms, scale.members_per_room, scale.board_sockets)
    rooms_file = root / "rooms.json"
    rooms_file.write_text(
        json.dumps({t: plan.reporter_of(t) for t in range(1, plan.open_prefix + 1)})
    )
    template = root / "seeded.sqlite3"
    started = time.perf_counter()
    seeded, bare_ws, bare_http = await asyncio.gather(
        seed(app_env(root, template), template, plan),
        _start_ceiling(children, cores, "ws", "--rooms", str(rooms_file)),
        _start_ceiling(children, cores, "http"),
    )
    log(
        f"seeded {plan.tickets:,} tickets, {plan.messages:,} messages, {plan.user_count:,} users "
        f"in {time.perf_counter() - started:.1f} s; ceilings up"
    )
    loadgen = LoadGen(children, cores.loadgen)
    database = copy_database(seeded, root / "app" / "bench.sqlite3")
    _, app = await asyncio.gather(
        loadgen.start(seeded.cookies),
        start_app(children, root, database, cores.server, **options.app_settings),
    )
    log(f"app up (pid {app.pids[0]}), load generator up; {cores.describe()}")
    if seeded.unfilled:
        log(f"warning: the seeder leaves these columns empty: {', '.join(seeded.unfilled)}")
    return scenarios.Bench(
        scale=scale,
        plan=plan,
        layout=layout,
        root=root,
        children=children,
        cores=cores,
        loadgen=loadgen,
        seeded=seeded,
        database=database,
        rooms_file=rooms_file,
        app=app,
        bare_ws=bare_ws,
        bare_http=bare_http,
        deflate=options.deflate,
        app_settings=options.app_settings,
    )


def _conditions(
    options: Options, bench: scenarios.Bench, seconds: float, others: float | None
) -> list[str]:
    scale = options.scale
    load = "unknown" if others is None else f"{others:.2f} cores on average"
    unfilled = bench.seeded.unfilled
    gaps = (
        [f"Seeded rows leave these newer columns empty: {', '.join(unfilled)}"] if unfilled else []
    )
    return [
        f"Scale `{scale.name}`: {scale.tickets:,} tickets, {scale.messages:,} messages; "
        f"{scale.rooms} ticket rooms x {scale.members_per_room} sockets + {scale.board_sockets} "
        f"board sockets; idle sockets {scale.idle_sockets[0]:,} and {scale.idle_sockets[1]:,}",
        f"Pinning: {bench.cores.describe()}",
        f"Other processes on the machine during the run: {load} (above ~0.1 the figures are "
        "noisier: rerun on a quiet machine)",
        "App: `helpdesk serve` (Hypercorn, hypercorn.toml) on a fresh SQLite database, HTTP rate "
        "limits off, per-socket and per-user message budgets raised; "
        + (
            "clients offer permessage-deflate like browsers"
            if options.deflate
            else "clients do not offer permessage-deflate"
        ),
        f"Code: {_git_revision()}; run took {seconds:.0f} s",
        *gaps,
    ]


async def benchmark(options: Options) -> list[dict[str, Any]]:
    others = machine.OtherLoad()
    started = time.perf_counter()
    async with workspace(options.keep) as (root, children):
        bench = await _prepare(root, children, options)
        async with profiling(children, bench.app, options.profile, bench.cores.loadgen):
            rows = await scenarios.run_all(bench, options.only, log)
    content: dict[str, Any] = {
        "machine": machine.describe(),
        "conditions": _conditions(options, bench, time.perf_counter() - started, others.cores()),
        "goals": GOALS.__dict__,
        "scale": options.scale.__dict__,
        "rows": [row.to_json() for row in rows],
        "raw": bench.raw,
    }
    _save(options, "benchmark", content)
    return content["rows"]


async def soak(options: Options) -> list[dict[str, Any]]:
    scale = options.scale
    minutes = options.minutes or scale.soak_minutes
    others = machine.OtherLoad()
    started = time.perf_counter()
    async with workspace(options.keep) as (root, children):
        bench = await _prepare(root, children, options)
        layout = Layout.build(
            bench.plan, scale.soak_rooms, scale.members_per_room, scale.board_sockets
        )
        log(f"soak: {scale.soak_rooms} rooms at {scale.soak_rate:g} msgs/s for {minutes:g} min")
        result = await bench.loadgen.call(
            "soak",
            minutes * 60 + 300,
            target=bench.app_target(),
            layout=layout.to_json(),
            rate=scale.soak_rate,
            seconds=minutes * 60,
        )
        stored = stored_messages(bench.database, result["prefix"])
    rows = soak_rows(result, stored, minutes)
    content: dict[str, Any] = {
        "machine": machine.describe(),
        "conditions": [
            *_conditions(options, bench, time.perf_counter() - started, others.cores()),
            f"{result['sockets']} sockets in {scale.soak_rooms} rooms, {scale.soak_rate:g} msgs/s "
            f"for {minutes:g} min",
        ],
        "rows": [row.to_json() for row in rows],
        "raw": {"soak": result, "stored": stored},
    }
    _save(options, "soak", content)
    return content["rows"]


def soak_rows(result: dict[str, Any], stored: int, minutes: float) -> list[Row]:
    sent, acked = result["sent"], result["acks"]
    delivered, expected = result["delivered"], result["expected"]
    exact = (
        sent == acked == stored
        and delivered == expected
        and not result["duplicates"]
        and not result["errors"]
        and not result["closed"]
    )
    growth = (result["rss_end"] - result["rss_start"]) / result["rss_start"]
    samples = result["rss_samples"] or [(0.0, result["rss_start"])]
    halfway = min(samples, key=lambda sample: abs(sample[0] - minutes * 30))[1]
    late_growth = (result["rss_end"] - halfway) / halfway
    return [
        Row(
            "s1",
            "soak",
            "sent = acked = stored",
            stored,
            "msgs",
            sent,
            "sent",
            "all equal",
            verdict(sent == acked == stored),
            f"sent {sent:,}, acked {acked:,}, stored {stored:,} over {minutes:g} min",
        ),
        Row(
            "s2",
            "soak",
            "delivered to other members",
            delivered,
            "",
            expected,
            "expected",
            "all equal",
            verdict(exact),
            f"duplicates {result['duplicates']}, errors {result['errors']}, "
            f"sockets closed {result['closed']}; "
            f"p99 {result['latency_all'].get('p99_ms', 0):.1f} ms",
        ),
        Row(
            "s3",
            "soak",
            "server RSS growth",
            growth * 100,
            "%",
            None,
            "",
            f"< {GOALS.soak_rss_growth * 100:g}%",
            verdict(growth < GOALS.soak_rss_growth),
            f"{result['rss_start'] / 2**20:.1f} → {result['rss_end'] / 2**20:.1f} MiB; "
            f"{late_growth:+.1%} over the second half",
        ),
    ]


def _save(options: Options, part: str, content: dict[str, Any]) -> None:
    log(next(line for line in content["conditions"] if line.startswith("Other processes")))
    if options.diagnostic:
        log(f"results files left as they were: {options.diagnostic}")
        return
    json_path, md_path = report.save(options.results, options.scale.name, part, content)
    log(f"wrote {_shown(json_path)} and {_shown(md_path)}")


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


async def _cancellable(work: Awaitable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """SIGTERM and SIGHUP cancel the run like Ctrl-C does, so the children are stopped."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, task.cancel)
    return await work


def run(options: Options, printer: Callable[[str], None] = print) -> int:
    work = soak(options) if options.soak else benchmark(options)
    rows = asyncio.run(_cancellable(work))
    printer(report.console_table(rows))
    return 0
