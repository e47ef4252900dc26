"""The `helpdesk` command: serve, mail-gateway, init-db, create-user, seed-demo, on the HELPDESK_*
settings."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from . import db
from .config import ConfigError, Settings, load_settings
from .domain.accounts import create_user
from .errors import HelpdeskError
from .models import Role

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _with_database(work: Callable[[], Awaitable[T]], *, check_schema: bool = True) -> T:
    """Open the configured database (a new one gets its schema), run `work`, close it."""
    settings = _settings()

    async def main() -> T:
        if check_schema:
            await db.open_database(settings, create_schema=True)
        else:
            await db.connect(settings)
        try:
            return await work()
        finally:
            await db.close_database()

    try:
        return asyncio.run(main())
    except db.SchemaOutOfDate as error:
        raise click.ClickException(str(error)) from None


@click.group()
def main() -> None:
    """Campus Helpdesk: a real-time helpdesk for a university campus."""


@main.command()
@click.option("--bind", metavar="HOST:PORT", help="Address to listen on (default: hypercorn.toml).")
@click.option("--workers", type=click.IntRange(1, 64), help="Processes (default: hypercorn.toml).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="A hypercorn.toml.")
def serve(bind: str | None, workers: int | None, config_path: str | None) -> None:
    """Serve the app with Hypercorn; creates the schema when the database is new."""
    from .server import WorkersNeedABroker, check_workers, event_loop_factory, hypercorn_config, run

    settings = _settings()
    config = hypercorn_config(bind, config_path)
    workers = workers or config.workers
    try:
        check_workers(workers, settings.broker_url)
        event_loop_factory(config)
    except (WorkersNeedABroker, ValueError) as error:
        raise click.ClickException(str(error)) from None

    async def check() -> None:
        await db.open_database(settings, create_schema=settings.create_schema)
        await db.close_database()

    try:
        asyncio.run(check())
    except db.SchemaOutOfDate as error:
        raise click.ClickException(str(error)) from None
    run(config, workers)


@main.command("mail-gateway")
@click.option(
    "--bind",
    metavar="HOST:PORT",
    help="Address to take mail on (default: HELPDESK_MAIL_GATEWAY_BIND, else 127.0.0.1:8025).",
)
def mail_gateway_command(bind: str | None) -> None:
    """Take replies by mail (SMTP) for reply+<token> addresses and post them to their tickets."""
    from .mail.gateway import DEFAULT_BIND, parse_bind
    from .server import run_mail_gateway

    bind = bind or _settings().mail_gateway_bind or DEFAULT_BIND
    try:
        parse_bind(bind)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--bind") from None

    def announce(address: str) -> None:
        click.echo(f"mail gateway listening on {address}")

    try:
        asyncio.run(run_mail_gateway(bind, announce))
    except db.SchemaOutOfDate as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot listen on {bind}: {error.strerror}") from None


@main.command("init-db")
def init_db() -> None:
    """Create the database, or bring its schema up to date (safe to run again)."""
    _migrate(None)


@main.command("migrate")
@click.option(
    "--to", "target", metavar="NAME", help="Stop after this migration (e.g. 0001_initial)."
)
def migrate_command(target: str | None) -> None:
    """Apply the schema migrations an upgrade brought, keeping the data."""
    _migrate(target)


def _migrate(target: str | None) -> None:
    settings = _settings()
    applied = _with_database(lambda: db.migrate(settings, target), check_schema=False)
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"database ready: {_safe_url(settings.database_url)}")


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on the first line of standard input")
        return password
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat it: ") != password:
        raise click.ClickException("the passwords do not match")
    return password


@main.command("create-user")
@click.argument("username")
@click.option(
    "--role", type=click.Choice([role.value for role in Role]), default="user", show_default=True
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.option("--display-name", help="Name shown to others (default: the username).")
@click.option("--email")
def create_user_command(
    username: str, role: str, password_stdin: bool, display_name: str | None, email: str | None
) -> None:
    """Create an account (staff and admins are made here)."""
    from .schemas import RegisterIn

    password = _read_password(password_stdin)
    try:
        data = RegisterIn(
            username=username, password=password, display_name=display_name, email=email
        )
    except ValueError as error:
        raise click.ClickException(f"invalid account details: {error}") from None

    async def work() -> None:
        await create_user(
            data.username,
            data.password,
            display_name=data.display_name,
            email=data.email,
            role=Role(role),
        )

    try:
        _with_database(work)
    except HelpdeskError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"created {role} {data.username}")


@main.command("seed-demo")
@click.option("--tickets", default=2000, show_default=True, help="How many tickets of history.")
@click.option("--days", default=90, show_default=True, help="Over how many days.")
def seed_demo(tickets: int, days: int) -> None:
    """Create demo accounts and realistic campus tickets (once; prints the sign-ins)."""
    from .seed import DEMO_ACCOUNTS, seed

    created = _with_database(lambda: seed(tickets=tickets, days=days))
    if created:
        click.echo(f"seeded {created} demo tickets over {days} days")
    else:
        click.echo("demo data already present")
    click.echo("demo sign-ins (username / password):")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.username:<8} {account.password:<22} {account.role.value}")


if __name__ == "__main__":
    main()
