"""Hypercorn with a graceful stop: every socket gets 1001 before the server exits."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from hypercorn.asyncio import serve
from hypercorn.config import Config

from .app import PACKAGE_DIR, close_sockets, create_app


def hypercorn_config(bind: str | None = None, config_path: str | None = None) -> Config:
    """`hypercorn.toml` from the working directory, else the one shipped with the package."""
    candidates = (
        [Path(config_path)]
        if config_path
        else [
            Path.cwd() / "hypercorn.toml",
            PACKAGE_DIR.parent / "hypercorn.toml",
            PACKAGE_DIR / "hypercorn.toml",
        ]
    )
    path = next((candidate for candidate in candidates if candidate.is_file()), None)
    config = Config.from_toml(path) if path else Config()
    if bind:
        config.bind = [bind]
    return config


async def _serve(config: Config) -> None:
    app = create_app()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in ("SIGINT", "SIGTERM"):
        loop.add_signal_handler(getattr(signal, name), stop.set)

    async def shutdown_trigger() -> None:
        await stop.wait()
        await close_sockets(app)

    await serve(app, config, shutdown_trigger=shutdown_trigger)


def run(config: Config) -> None:
    asyncio.run(_serve(config))
