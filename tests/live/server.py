"""A real `helpdesk serve` (Hypercorn) in a subprocess, and people who use it over HTTP and /ws."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from helpdesk import db
from helpdesk.config import load_settings
from helpdesk.models import Role
from tests.conftest import PASSWORD, make_user
from tests.live.helpers import FrameReader


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    """One server process; `env` is what it was started with (reused to restart it)."""

    root: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    workers: int = 1
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def log_path(self) -> Path:
        return self.root / f"server-{self.port}.log"

    def start(self, timeout: float = 30) -> LiveServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "helpdesk.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/login", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def server_env(root: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    env.update(
        {
            "HELPDESK_DATABASE_URL": f"sqlite:///{root / 'live.sqlite3'}",
            "HELPDESK_INSTANCE_PATH": str(root / "instance"),
            "HELPDESK_SECRET_KEY": "live-test-secret-key-0123456789abcdef",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"HELPDESK_{key.upper()}": value for key, value in settings.items()})
    return env


def prepare_database(env: dict[str, str], accounts: dict[str, Role]) -> None:
    """Create the schema and accounts before the server starts.

    It runs on a thread of its own: the caller's thread may already have an event loop
    (Playwright's sync API keeps one running).
    """
    settings = load_settings(environ=env)

    async def work() -> None:
        await db.open_database(settings, create_schema=True)
        try:
            for username, role in accounts.items():
                await make_user(username, role)
        finally:
            await db.close_database()

    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, work()).result()


class Person:
    """Someone with a browser: an HTTP session and as many sockets (tabs) as they open."""

    def __init__(self, server: LiveServer, username: str) -> None:
        self.server = server
        self.username = username
        self.http = httpx.AsyncClient(base_url=server.url, timeout=10)
        self.user: dict[str, Any] = {}
        self.sockets: list[ClientConnection] = []

    async def login(self) -> Person:
        response = await self.http.post(
            "/api/v1/auth/login", json={"username": self.username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.user = response.json()["user"]
        return self

    @property
    def id(self) -> int:
        return self.user["id"]

    def on(self, server: LiveServer) -> Person:
        """The same browser (its session cookie) talking to another server."""
        elsewhere = Person(server, self.username)
        elsewhere.http.cookies = self.http.cookies
        elsewhere.user = self.user
        return elsewhere

    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    async def socket(self, *, origin: str | None = None, **options: Any) -> FrameReader:
        ws = await connect(
            self.server.ws_url,
            additional_headers={"Cookie": self.cookie()},
            origin=origin,
            **options,
        )
        self.sockets.append(ws)
        return FrameReader(ws)

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        await self.http.aclose()
