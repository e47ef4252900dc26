"""The `helpdesk` command, run as an operator would, against a database file."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from helpdesk import create_app
from tests.command import HELPDESK, run_helpdesk


def run(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_helpdesk(args, tmp_path / "cli.sqlite3", stdin)


def test_init_db_is_repeatable(tmp_path):
    for _ in range(2):
        result = run(["init-db"], tmp_path)
        assert result.returncode == 0, result.stderr
        assert "database ready" in result.stdout
    assert (tmp_path / "cli.sqlite3").exists()
    assert (tmp_path / "instance" / "secret_key").exists()


def test_created_user_signs_in_to_the_app_on_the_same_database(tmp_path):
    result = run(
        ["create-user", "sam", "--role", "staff", "--password-stdin"],
        tmp_path,
        stdin="helpdesk-demo-2026\nignored second line\n",
    )
    assert result.returncode == 0, result.stderr
    assert "created staff sam" in result.stdout

    async def sign_in() -> dict:
        app = create_app(
            {
                "database_url": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
                "instance_path": tmp_path / "instance",
            }
        )
        async with app.test_app():
            response = await app.test_client().post(
                "/api/v1/auth/login", json={"username": "sam", "password": "helpdesk-demo-2026"}
            )
            assert response.status_code == 200
            return await response.get_json()

    import asyncio

    assert asyncio.run(sign_in())["user"]["role"] == "staff"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["create-user", "sam", "--role", "staff", "--password-stdin"], "\n", "no password"),
        (["create-user", "sam", "--role", "staff", "--password-stdin"], "short\n", "10 characters"),
        (["create-user", "x", "--password-stdin"], "helpdesk-demo-2026\n", "username"),
        (
            ["create-user", "sam", "--role", "king", "--password-stdin"],
            "helpdesk-demo-2026\n",
            "king",
        ),
    ],
)
def test_create_user_explains_what_is_wrong(tmp_path, args, stdin, message):
    result = run(args, tmp_path, stdin)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_duplicate_user_is_refused(tmp_path):
    run(["create-user", "sam", "--password-stdin"], tmp_path, "helpdesk-demo-2026\n")
    again = run(["create-user", "sam", "--password-stdin"], tmp_path, "helpdesk-demo-2026\n")
    assert again.returncode != 0
    assert "taken" in again.stderr


def test_seed_demo_once_and_prints_sign_ins(tmp_path):
    first = run(["seed-demo", "--tickets", "150", "--days", "30"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "seeded 150 demo tickets" in first.stdout
    assert "alice" in first.stdout and "campus-demo-2026" in first.stdout
    second = run(["seed-demo"], tmp_path)
    assert "already present" in second.stdout

    async def counts() -> tuple[int, int, int]:
        from helpdesk.models import Message, Ticket

        app = create_app(
            {
                "database_url": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
                "instance_path": tmp_path / "instance",
            }
        )
        async with app.test_app():
            closed = await Ticket.filter(status="closed", closed_at__isnull=False).count()
            return await Ticket.all().count(), closed, await Message.all().count()

    import asyncio

    tickets, closed, messages = asyncio.run(counts())
    assert tickets == 150
    assert 0 < closed < 150
    assert messages > tickets // 2


def test_bad_settings_are_reported_plainly(tmp_path):
    env = {
        **os.environ,
        "HELPDESK_COOKIE_SECURE": "maybe",
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    result = subprocess.run(
        [*HELPDESK, "serve"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "HELPDESK_COOKIE_SECURE must be true or false" in result.stderr


def test_an_unknown_event_loop_is_reported_plainly(tmp_path):
    config = tmp_path / "hypercorn.toml"
    config.write_text('worker_class = "trio"\n')
    result = run(["serve", "--config", str(config)], tmp_path)
    assert result.returncode != 0
    assert 'worker_class must be "asyncio" or "uvloop", not \'trio\'' in result.stderr


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
def test_serve_runs_on_the_event_loop_the_config_names(worker_class):
    from hypercorn.config import Config

    from helpdesk.server import event_loop_factory

    config = Config()
    config.worker_class = worker_class
    factory = event_loop_factory(config)
    loop = (factory or asyncio.new_event_loop)()
    try:
        assert (type(loop).__module__.split(".")[0] == "uvloop") is (worker_class == "uvloop")
    finally:
        loop.close()


def test_serve_keeps_start_up_objects_out_of_full_collections():
    """A full collection of everything start-up built paused every socket for ~50 ms."""
    import gc

    from helpdesk.server import freeze_startup_objects

    assert gc.get_freeze_count() == 0
    try:
        asyncio.run(freeze_startup_objects())
        assert gc.get_freeze_count() > 10_000  # the modules, at least
    finally:
        gc.unfreeze()
