"""What the numbers were measured on, and which cores the server and load generator get."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, object]:
    """CPU, cores, RAM, Python, kernel and the versions that shape the figures."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(_ram_gib(), 1),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "kernel": f"{platform.system()} {platform.release()}",
        "packages": {
            name: _package_version(name)
            for name in ("hypercorn", "quart", "tortoise-orm", "aiosqlite", "websockets", "httpx")
        },
    }


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_seconds() -> float | None:
    """CPU seconds of every process on the machine (user, nice, system; not interrupts)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        return (int(fields[0]) + int(fields[1]) + int(fields[2])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


def _own_seconds() -> float:
    """CPU seconds of this process and of its children that have been waited for (their own
    children included once they were waited for)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class OtherLoad:
    """How many cores other processes kept busy while the bench ran: another test suite on the
    same machine makes every figure noisier, and the report says so. Read it after every
    child has exited, so their CPU time counts as the bench's own."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.machine = _process_seconds()
        self.own = _own_seconds()

    def cores(self) -> float | None:
        machine = _process_seconds()
        if machine is None or self.machine is None:
            return None
        others = (machine - self.machine) - (_own_seconds() - self.own)
        return max(others, 0.0) / (time.perf_counter() - self.wall)


@dataclass(frozen=True)
class Cores:
    """CPU sets for the server side and the load generator; None means 'do not pin'."""

    server: frozenset[int] | None
    loadgen: frozenset[int] | None

    @property
    def pinned(self) -> bool:
        return self.server is not None

    def describe(self) -> str:
        if not self.pinned:
            return "not pinned (taskset missing or fewer than 2 cores)"
        return (
            f"server on core(s) {_fmt(self.server)}, load generator on core(s) {_fmt(self.loadgen)}"
        )


def _fmt(cores: frozenset[int] | None) -> str:
    return ",".join(str(core) for core in sorted(cores or ()))


def plan_cores(enabled: bool = True) -> Cores:
    """Server on the last available core, load generator on the others; nothing pinned when
    there is only one core or no taskset (the run still works, it is just noisier)."""
    try:
        available = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        available = []
    if not enabled or len(available) < 2 or shutil.which("taskset") is None:
        return Cores(None, None)
    return Cores(frozenset(available[-1:]), frozenset(available[:-1]))


def pinned(argv: list[str], cores: frozenset[int] | None) -> list[str]:
    """`argv` prefixed with taskset for `cores`, or unchanged."""
    if not cores:
        return argv
    return ["taskset", "-c", _fmt(cores), *argv]


def set_affinity(pid: int, cores: frozenset[int] | None) -> bool:
    """Re-pin a running process to `cores` (None: every core); False where that is not possible."""
    target = cores or frozenset(range(os.cpu_count() or 1))
    try:
        os.sched_setaffinity(pid, target)
    except (AttributeError, OSError):
        return False
    return True
