"""Server-side measurements taken from the load generator: RSS and CPU time of the server's
processes (their children included, for multi-worker servers), and the generator's own CPU."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

try:
    import psutil
except ImportError:  # /proc is enough on Linux for single-process servers
    psutil = None

_PAGE = 4096
_TICKS = 100


def _proc_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


class ServerMeter:
    """The server's memory and CPU, summed over its processes and their descendants."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids

    def _processes(self) -> list:
        found = []
        for pid in self.pids:
            try:
                root = psutil.Process(pid)
                found.append(root)
                found.extend(root.children(recursive=True))
            except psutil.NoSuchProcess:
                continue
        return found

    def rss(self) -> int:
        if psutil is None:
            return sum(_proc_rss(pid) for pid in self.pids)
        total = 0
        for process in self._processes():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def cpu_seconds(self) -> float:
        if psutil is None:
            return sum(_proc_cpu(pid) for pid in self.pids)
        total = 0.0
        for process in self._processes():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total


@dataclass
class Window:
    """CPU use of the server and of this load generator over a measured interval: a load
    generator near 100% means the figure may be its limit, not the server's."""

    meter: ServerMeter
    wall: float = 0.0
    own_cpu: float = 0.0
    server_cpu: float = 0.0

    def __post_init__(self) -> None:
        self.wall = time.perf_counter()
        self.own_cpu = time.process_time()
        self.server_cpu = self.meter.cpu_seconds()

    def close(self) -> dict[str, float]:
        wall = time.perf_counter() - self.wall
        return {
            "seconds": wall,
            "loadgen_cpu": (time.process_time() - self.own_cpu) / wall,
            "server_cpu": (self.meter.cpu_seconds() - self.server_cpu) / wall,
        }
