"""Scales of a run and the goals from the issue, in one place so every module agrees on them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
# Fixed so session cookies can be signed before the server starts; never used outside the bench.
SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
COOKIE_NAME = "helpdesk_session"
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Scale:
    """How big each scenario is; `quick` must fit in under a minute on two cores."""

    name: str
    tickets: int
    messages: int
    rooms: int
    members_per_room: int  # the ticket's reporter plus staff
    board_sockets: int
    idle_sockets: tuple[int, int]
    step_seconds: float  # one rate of the fan-out sweep
    sweep_start_rate: float
    sweep_refinements: int
    steady_rate: float
    steady_seconds: float
    list_requests: int
    analytics_requests: int
    http_seconds: float
    http_concurrency: int
    write_seconds: float
    writers: int
    soak_minutes: float
    soak_rooms: int
    soak_rate: float

    @property
    def live_sockets(self) -> int:
        return self.rooms * self.members_per_room + self.board_sockets


QUICK = Scale(
    name="quick",
    tickets=10_000,
    messages=100_000,
    rooms=20,
    members_per_room=5,
    board_sockets=2,
    idle_sockets=(200, 500),
    step_seconds=0.7,
    sweep_start_rate=100,
    sweep_refinements=1,
    steady_rate=200,
    steady_seconds=2,
    list_requests=100,
    analytics_requests=20,
    http_seconds=1.5,
    http_concurrency=32,
    write_seconds=2.0,
    writers=16,
    soak_minutes=0.5,
    soak_rooms=40,
    soak_rate=50,
)

FULL = Scale(
    name="full",
    tickets=100_000,
    messages=1_000_000,
    rooms=200,
    members_per_room=5,
    board_sockets=5,
    idle_sockets=(1_000, 5_000),
    step_seconds=3.0,
    sweep_start_rate=100,
    sweep_refinements=2,
    steady_rate=200,
    steady_seconds=15,
    list_requests=1_000,
    analytics_requests=60,
    http_seconds=8.0,
    http_concurrency=64,
    write_seconds=8.0,
    writers=32,
    soak_minutes=5,
    soak_rooms=100,
    soak_rate=100,
)


@dataclass(frozen=True)
class Goals:
    """The issue's targets; PASS/MISS is decided against these and nothing else."""

    fanout_p99_ms: float = 100.0
    fanout_ratio: float = 0.5
    steady_p50_ms: float = 5.0
    steady_p99_ms: float = 50.0
    memory_ratio: float = 2.0
    list_p99_ms: float = 20.0
    create_per_second: float = 500.0
    analytics_ms: float = 100.0
    write_ratio: float = 0.5
    soak_rss_growth: float = 0.05


GOALS = Goals()
