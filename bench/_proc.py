"""What the benchmarks read of their processes from /proc (Linux)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def status_kb(pid: int, field_name: str) -> int:
    """A kB figure of /proc/<pid>/status: VmHWM (peak RSS), VmRSS..."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for {pid}")


def gunicorn_worker_pid(master: int) -> int:
    """The pid of the first worker the gunicorn master `master` forked."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.2)
    raise RuntimeError("gunicorn started no worker")


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += process_tree(int(child))
    return found


def pin(pids: list[int], cpus: set[int]) -> None:
    """Run every thread of these processes (and what they start later) on `cpus` only."""
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            os.sched_setaffinity(int(task.name), cpus)
