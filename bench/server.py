"""Starting and stopping the processes of a run: the app, the ceilings, the load generator.

Every child is started in a session of its own, so stopping one ends its whole process group
(Hypercorn workers included) and a Ctrl-C in the terminal reaches only the orchestrator, which
then stops its children in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .config import REDIS_URL, REPO_ROOT, SECRET_KEY
from .machine import pinned


class ServerRefused(RuntimeError):
    """The process exited before it answered: the log tail says why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def log_tail(self, lines: int = 25) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def interrupt(self, grace: float = 20.0) -> None:
        """SIGINT, for tools that write their output on Ctrl-C (py-spy), then stop."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGINT)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), grace)
        await self.stop()

    async def stop(self, grace: float = 1.0) -> None:
        """SIGTERM to the child's group (graceful: the app closes sockets with 1001), then
        SIGKILL if it is still there after `grace` seconds. The grace is short on purpose:
        Hypercorn keeps a closed socket's tasks until its next ping (20 s) and would otherwise
        sit out its whole graceful_timeout; nothing the bench reads depends on a clean exit."""
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            await self.process.wait()


@dataclass
class Children:
    """Every process this run started, all stopped at the end whatever happens."""

    logs: Path
    started: list[Child] = field(default_factory=list)

    async def spawn(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cores: frozenset[int] | None = None,
        pipes: bool = False,
    ) -> Child:
        """Start `argv` with its output in a log file; with `pipes`, stdin and stdout are pipes
        (the load generator's command channel) and only stderr goes to the log."""
        log_path = self.logs / f"{name}.log"
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *pinned(argv, cores),
                env=env,
                cwd=REPO_ROOT,
                stdin=asyncio.subprocess.PIPE if pipes else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE if pipes else log,
                stderr=log if pipes else asyncio.subprocess.STDOUT,
                start_new_session=True,
                limit=256 * 1024 * 1024,
            )
        child = Child(name, process, log_path)
        self.started.append(child)
        return child

    async def stop_all(self) -> None:
        """The load generator first (it stops the load), then every server at once."""
        generators = [
            child for child in self.started if not child.name.startswith(("app", "ceiling"))
        ]
        for child in generators:
            await child.stop()
        servers, self.started = [c for c in self.started if c not in generators], []
        await asyncio.gather(*(child.stop() for child in servers))

    def forget(self, child: Child) -> None:
        if child in self.started:
            self.started.remove(child)


@dataclass
class Server:
    """One thing under test: its processes, where to reach it, and which pids to measure."""

    name: str
    children: list[Child]
    ports: list[int]
    ws_path: str = "/ws"

    @property
    def http_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @property
    def ws_urls(self) -> list[str]:
        return [f"ws://127.0.0.1:{port}{self.ws_path}" for port in self.ports]

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self.children]

    def target(self, kind: str, *, deflate: bool = True) -> dict:
        """What the load generator needs to drive and measure this server."""
        return {
            "kind": kind,
            "ws_urls": self.ws_urls,
            "http_urls": self.http_urls,
            "pids": self.pids,
            "deflate": deflate,
        }

    async def stop(self, registry: Children) -> None:
        for child in self.children:
            await child.stop()
            registry.forget(child)


async def wait_ready(server: Server, path: str = "/", within: float = 30.0) -> None:
    """Ready once every port answers HTTP at all (any status); refused if a process exits."""
    deadline = asyncio.get_running_loop().time() + within
    async with httpx.AsyncClient(timeout=1.0) as client:
        for url in server.http_urls:
            while True:
                for child in server.children:
                    if not child.running:
                        raise ServerRefused(
                            f"{child.name} exited with {child.process.returncode}:\n"
                            f"{child.log_tail()}"
                        )
                try:
                    await client.get(url + path)
                    break
                except httpx.HTTPError:
                    if asyncio.get_running_loop().time() > deadline:
                        raise ServerRefused(
                            f"{server.name} did not answer within {within} s"
                        ) from None
                    await asyncio.sleep(0.05)


def app_env(root: Path, database: Path, **settings: str) -> dict[str, str]:
    """The app's environment: its own database and instance folder, no HTTP rate limits, and
    per-socket, per-user message and per-reporter ticket budgets high enough that the bench
    measures throughput, not flood control (the limits' own bookkeeping still runs)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    env.update(
        {
            "HELPDESK_DATABASE_URL": f"sqlite:///{database}",
            "HELPDESK_INSTANCE_PATH": str(root / "instance"),
            "HELPDESK_SECRET_KEY": SECRET_KEY,
            "HELPDESK_RATE_LIMITS_ENABLED": "false",
            "HELPDESK_WS_RATE_PER_SECOND": "100000",
            "HELPDESK_WS_BURST": "100000",
            "HELPDESK_CHAT_MESSAGES": "100000000",
            "HELPDESK_REPORTS_PER_HOUR": "100000000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"HELPDESK_{key.upper()}": value for key, value in settings.items()})
    return env


def serve_argv(port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "helpdesk.cli", "serve", "--bind", f"127.0.0.1:{port}", *extra]


async def start_app(
    registry: Children,
    root: Path,
    database: Path,
    cores: frozenset[int] | None,
    name: str = "app",
    **settings: str,
) -> Server:
    port = free_port()
    child = await registry.spawn(
        name, serve_argv(port), env=app_env(root, database, **settings), cores=cores
    )
    server = Server(name, [child], [port])
    await wait_ready(server, "/login")
    return server


async def start_multi_worker(
    registry: Children,
    root: Path,
    database: Path,
    cores: frozenset[int] | None,
    **settings: str,
) -> tuple[Server, str]:
    """Two workers sharing the database and Redis: `serve --workers 2` if the CLI has it,
    else two `serve` processes on two ports. Raises ServerRefused when neither runs."""
    env = app_env(root, database, **{"broker_url": REDIS_URL, **settings})
    port = free_port()
    child = await registry.spawn(
        "app-workers2", serve_argv(port, "--workers", "2"), env=env, cores=cores
    )
    server = Server("app-workers2", [child], [port])
    try:
        await wait_ready(server, "/login")
        return server, "helpdesk serve --workers 2"
    except ServerRefused as refused:
        await server.stop(registry)
        if "--workers" not in str(refused):
            raise
    ports = [free_port(), free_port()]
    children = [
        await registry.spawn(f"app-proc{i}", serve_argv(port), env=env, cores=cores)
        for i, port in enumerate(ports)
    ]
    server = Server("app-2procs", children, ports)
    try:
        await wait_ready(server, "/login")
    except ServerRefused:
        await server.stop(registry)
        raise
    return server, "two helpdesk serve processes on two ports"
