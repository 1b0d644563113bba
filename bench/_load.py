"""Load generation for bench/api.py: wrk with keep-alive connections, percentiles from Lua."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

# wrk's done() hook sees every request's latency (microseconds) and the error counters;
# "status" counts responses >= 400, which wrk's own summary calls "Non-2xx or 3xx".
_DONE_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""
_RESULT = re.compile(r"^BENCH (.*)$", re.MULTILINE)
# A request slower than this is an error, not a sample (wrk's default of 2 s would
# silently drop the slowest responses of a heavy endpoint).
TIMEOUT_SECONDS = 60


class Sample(NamedTuple):
    p50_ms: float
    p95_ms: float
    rate: float
    requests: int


class LoadError(SystemExit):
    """A failed request or a wrk failure: the run stops, since its figures would lie."""


def _cpu_ticks(pid: int) -> int:
    """CPU time (clock ticks) of the process and of its children (gunicorn's workers)."""
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    for each in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def settle(pid: int, *, timeout: float = 120.0) -> None:
    """Wait until the server has finished what the last clients left it (no CPU for 0.1 s).

    wrk stops at its deadline, but the requests it had sent are still being served; the
    next window must not start behind them.
    """
    deadline = time.monotonic() + timeout
    before = _cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = _cpu_ticks(pid)
        if now - before <= 1:
            return
        before = now
    raise LoadError(f"the server (pid {pid}) was still busy {timeout:.0f} s after its load ended")


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise LoadError(
            "bench/api.py needs wrk (Debian package `wrk`): run `scripts/ensure-system.sh wrk` "
            "as root, or `sudo apt-get install -y wrk`."
        )
    return found


def write_script(directory: Path) -> Path:
    script = directory / "bench_done.lua"
    script.write_text(_DONE_LUA, encoding="utf-8")
    return script


def check(url: str, headers: dict[str, str], *, expect: str = "") -> bytes:
    """One request that must answer 200 (wrk does not count 3xx as errors) containing `expect`."""
    request = urllib.request.Request(url, headers=headers)
    try:
        # One rebuild of the bare list at 10,000 films can take a minute on a busy machine.
        with urllib.request.urlopen(request, timeout=5 * TIMEOUT_SECONDS) as response:
            body: bytes = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise LoadError(f"GET {url} answered {exc.code}: {detail}") from exc
    except OSError as exc:
        raise LoadError(f"GET {url} failed: {exc!r}") from exc
    if status != 200:
        raise LoadError(f"GET {url} answered {status}, not 200")
    if expect and expect.encode() not in body:
        raise LoadError(f"GET {url} does not contain {expect!r}: {body[:300]!r}")
    return body


def run(
    url: str,
    *,
    script: Path,
    headers: dict[str, str],
    seconds: float,
    connections: int,
    threads: int,
    minimum: int = 1,
) -> Sample:
    """Load `url` for `seconds`; any socket error, error status or < `minimum` requests stops."""
    args = [
        wrk_binary(),
        f"--threads={min(threads, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        f"--script={script}",
    ]
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    done = subprocess.run(
        [*args, url], capture_output=True, text=True, timeout=seconds + TIMEOUT_SECONDS + 30
    )
    found = _RESULT.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise LoadError(f"wrk failed on {url}: {done.stdout}{done.stderr}")
    values = {k: int(v) for k, v in (item.split("=") for item in found[1].split())}
    errors = {k: values[k] for k in ("connect", "read", "write", "status", "timeout") if values[k]}
    if errors or values["requests"] < minimum:
        raise LoadError(f"{url}: {values['requests']} requests, errors {errors}\n{done.stdout}")
    return Sample(
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        rate=values["requests"] / max(values["duration_us"] / 1_000_000, 1e-6),
        requests=values["requests"],
    )
