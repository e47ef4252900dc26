"""Hypercorn with a graceful stop (every socket gets 1001 before a worker exits), for one process
or a pool of worker processes sharing the listening socket; and the inbound mail gateway, inside
`serve` when `mail_gateway_bind` is set (every worker takes mail from one shared socket, as they
do requests) or alone."""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path

from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app

from .app import close_sockets, create_app
from .assets import PACKAGE_DIR
from .config import load_settings
from .mail.gateway import GatewayServices, MailGateway, bind_socket
from .web.context import HelpdeskApp

log = logging.getLogger(__name__)


class WorkersNeedABroker(ValueError):
    """More than one worker with the in-process broker: live events would not cross them."""


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


def check_workers(workers: int, broker_url: str) -> None:
    if workers > 1 and broker_url.startswith("memory://"):
        raise WorkersNeedABroker(
            f"{workers} workers need a broker they all share: the memory:// broker only reaches "
            "its own process, so people on different workers would not see each other live. "
            "Set HELPDESK_BROKER_URL=redis://host:6379/0, or run one worker."
        )


async def freeze_startup_objects() -> None:
    """Keep what start-up built out of every later full garbage collection.

    A full collection scans every tracked object, and the modules, models, templates and
    connections of start-up are most of them: about 50 ms here, a pause for every socket and
    request at once, which showed as the latency outliers of the benchmark. They live as long
    as the process, so there is nothing to collect among them.
    """
    gc.collect()
    gc.freeze()


def mail_gateway(app: HelpdeskApp) -> MailGateway:
    """The gateway on the app's own services (database, event log and broker, allowances)."""
    return MailGateway(
        GatewayServices(
            app.settings, app.event_log, app.message_writer, app.allowances, app.uploads
        )
    )


def _stop_on_signals() -> asyncio.Event:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in ("SIGINT", "SIGTERM"):
        loop.add_signal_handler(getattr(signal, name), stopping.set)
    return stopping


async def serve(
    config: Config,
    sockets: Sockets | None = None,
    stop: ProcessEvent | None = None,
    mail_socket: socket.socket | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or the supervisor's `stop`); close sockets with 1001 first.
    With `mail_gateway_bind` set, take mail there too (on `mail_socket`, if the supervisor
    bound it for all its workers)."""
    app = create_app()
    gateway = mail_gateway(app) if app.settings.mail_gateway_bind else None
    if gateway is not None:

        @app.before_serving
        async def start_mail_gateway() -> None:
            await gateway.start(app.settings.mail_gateway_bind, sock=mail_socket)

    app.before_serving(freeze_startup_objects)  # after the app's own start-up: runs last
    stopping = _stop_on_signals()

    async def shutdown_trigger() -> None:
        while not stopping.is_set() and not (stop is not None and stop.is_set()):
            try:
                await asyncio.wait_for(stopping.wait(), 0.2 if stop is not None else None)
            except TimeoutError:
                continue
        if gateway is not None:  # before the app's shutdown closes what deliveries use
            await gateway.stop()
        await close_sockets(app)

    await worker_serve(
        wrap_app(app, config.wsgi_max_body_size, None),
        config,
        sockets=sockets,
        shutdown_trigger=shutdown_trigger,
    )


def event_loop_factory(config: Config) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when `worker_class = "uvloop"` (as Hypercorn itself reads that setting)."""
    if config.worker_class == "uvloop":
        try:
            import uvloop  # only this setting needs it
        except ImportError:
            raise ValueError('worker_class = "uvloop" needs the uvloop package') from None
        return uvloop.new_event_loop
    if config.worker_class != "asyncio":
        raise ValueError(f'worker_class must be "asyncio" or "uvloop", not {config.worker_class!r}')
    return None


def _run_worker(
    config: Config,
    sockets: Sockets | None,
    stop: ProcessEvent | None,
    mail_socket: socket.socket | None = None,
) -> None:
    with asyncio.Runner(loop_factory=event_loop_factory(config)) as runner:
        runner.run(serve(config, sockets, stop, mail_socket))


def run(config: Config, workers: int = 1) -> None:
    if workers <= 1:
        _run_worker(config, None, None)
        return
    run_workers(config, workers)


def run_workers(config: Config, workers: int) -> None:
    """Start `workers` processes on one listening socket; restart any that dies; stop them all
    gracefully on SIGINT/SIGTERM."""
    sockets = config.create_sockets()
    gateway_bind = load_settings().mail_gateway_bind
    mail_socket = bind_socket(gateway_bind) if gateway_bind else None
    context = multiprocessing.get_context("spawn")
    stop = context.Event()

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(
            target=_run_worker, args=(config, sockets, stop, mail_socket), daemon=False
        )
        process.start()
        return process

    # The handler only raises a flag: calling stop.set() from it could deadlock with the
    # main thread, which may hold the event's lock at the moment the signal arrives.
    requested: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        requested.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    processes = [start() for _ in range(workers)]
    try:
        while not requested:
            time.sleep(0.2)
            for index, process in enumerate(processes):
                if not process.is_alive() and not requested:
                    log.warning(
                        "worker %s exited with %s; starting another", process.pid, process.exitcode
                    )
                    processes[index] = start()
    finally:
        stop.set()
        deadline = time.monotonic() + config.graceful_timeout + 10
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        for sock in [*sockets.secure_sockets, *sockets.insecure_sockets]:
            sock.close()
        if mail_socket is not None:
            mail_socket.close()


async def run_mail_gateway(bind: str, announce: Callable[[str], None]) -> None:
    """The gateway alone, on the services the app factory builds and its own start-up and
    shutdown, until SIGINT/SIGTERM; `announce` hears where it listens."""
    app = create_app()
    app.config["PUSH_ANALYTICS"] = False  # no dashboards are served from here
    gateway = mail_gateway(app)
    stopping = _stop_on_signals()
    await app.startup()
    try:
        await gateway.start(bind)
        announce(gateway.address)
        await stopping.wait()
    finally:
        await gateway.stop()
        await app.shutdown()
