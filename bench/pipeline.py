"""Benchmark of the content pipeline on generated 24 fps sources (BENCH_SIZE), one worker.

Prints, all measured in this one run (medians of BENCH_ROUNDS rounds, default 3):
- the ladder's CPU: the pipeline's FFmpeg commands (the lowest rung alone, then the other
  rungs from one decode) / one single-decode run making every rung (goal <= 1.15), beside
  the per-rung design (one decode per rung) for reference;
- commit -> `ready` of one film / the same commands run bare (goal <= 1.10);
- time to the first playable rendition / time to `ready` (goal <= 0.15);
- peak memory of the worker (Python, per job process) and of FFmpeg;
- six films saved together, one worker: when each is first playable (goal: all within 3x
  the first) and when the batch is `ready`, beside six single films one after another.

Usage: .venv/bin/python bench/pipeline.py
(BENCH_SECONDS=30 BENCH_ROUNDS=3 BENCH_BATCH=6 BENCH_SIZE=1920x1080 are the defaults;
BENCH_MBPS=100 asks x264 for that bitrate instead of CRF 20, towards a camera or editing
master: testsrc2 is simple, so it gets no more than about 24 Mbit/s; the size is printed)
It starts its own SeaweedFS, (re)creates the PostgreSQL database BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/affea_bench) and runs a private redis-server,
so no other worker can take its jobs.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from affea.localdev import free_port, start_redis, start_seaweed, stop_process  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BATCH = int(os.environ.get("BENCH_BATCH", "6"))
WIDTH, HEIGHT = (int(n) for n in os.environ.get("BENCH_SIZE", "1920x1080").split("x"))
FPS = 24
MBPS = os.environ.get("BENCH_MBPS", "")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, CPU seconds)."""
    cpu, wall = _children_cpu(), time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - wall, _children_cpu() - cpu


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found += [child, *_descendants(child)]
    return found


class MemoryWatch(threading.Thread):
    """Sample the worker tree's peak RSS (VmHWM) until stopped."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.peaks = {"worker": 0, "job": 0, "ffmpeg": 0}
        self.stop = threading.Event()

    def run(self) -> None:
        # VmHWM is each process's own high-water mark, so sampling rarely loses nothing
        # but the last moments of a process; frequent sampling would steal CPU from FFmpeg.
        while not self.stop.wait(0.5):
            self.peaks["worker"] = max(self.peaks["worker"], _vm_hwm_kb(self.root_pid))
            for pid in _descendants(self.root_pid):
                try:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                kind = "ffmpeg" if name.startswith(("ffmpeg", "ffprobe")) else "job"
                self.peaks[kind] = max(self.peaks[kind], _vm_hwm_kb(pid))


def _database_url() -> str:
    """PostgreSQL as in production (SQLite's file lock would stall the worker's writes)."""
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/affea_bench")
    import psycopg

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and of its children it has reaped (RQ's job processes,
    and through them their FFmpeg runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from the state (3).
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="affea-bench-"))
    redis_port = free_port()
    redis_server = start_redis(port=redis_port)  # private: no other worker takes its jobs
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "affea.settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "STORAGE_BACKEND": "s3",
            "LOG_LEVEL": "WARNING",
        }
    )
    seaweed = start_seaweed(
        work / "seaweed",
        bucket="affea-bench",
        access_key="bench-key",
        secret_key="bench-secret",
        cors_origins=[],
    )
    env.update(
        {
            "S3_ENDPOINT_URL": seaweed.endpoint_url,
            "S3_BUCKET": seaweed.bucket,
            "S3_ACCESS_KEY_ID": seaweed.access_key,
            "S3_SECRET_ACCESS_KEY": seaweed.secret_key,
            "S3_ADDRESSING_STYLE": "path",
        }
    )
    os.environ.update(env)
    worker: subprocess.Popen[bytes] | None = None
    try:
        import django

        django.setup()
        from django.core.files import File
        from django.core.management import call_command
        from django.db import transaction
        from django.db.models import Exists, OuterRef
        from django.utils import timezone

        from content_app.media.ffmpeg import image_args, ladder_args, rendition_args
        from content_app.media.ladder import Rung, ladder_for
        from content_app.media.probe import probe
        from content_app.models import (
            Film,
            ProcessingState,
            ProcessingStep,
            Rendition,
            RenditionStatus,
        )

        call_command("migrate", verbosity=0)

        source = work / "source.mp4"
        print(f"Generating a {SECONDS:g} s {WIDTH}x{HEIGHT}@{FPS} source...", flush=True)
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=s={WIDTH}x{HEIGHT}:r={FPS}:d={SECONDS}",
             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={SECONDS}",
             "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
             *(["-b:v", f"{MBPS}M", "-maxrate", f"{MBPS}M", "-bufsize", f"{MBPS}M"]
               if MBPS else ["-crf", "20"]),
             "-c:a", "aac", "-b:a", "128k", str(source)],
            check=True,
        )  # fmt: skip
        info = probe(source)
        rungs = ladder_for(info.width, info.height)

        def out(rung: Rung, kind: str) -> Path:
            directory = work / f"{kind}-{rung.quality}"
            directory.mkdir(exist_ok=True)
            return directory

        def run_all(commands: list[list[str]]) -> tuple[float, float]:
            wall = cpu = 0.0
            for args in commands:
                w, c = _timed(args)
                wall, cpu = wall + w, cpu + c
            return wall, cpu

        # What the pipeline runs: the lowest rung alone, then the others from one decode.
        ladder = [
            rendition_args(source, out(rungs[0], "bare"), rungs[0], info=info, progress=False),
            ladder_args(
                source, [(r, out(r, "bare")) for r in rungs[1:]], info=info, progress=False
            ),
        ]
        # The floor: every rung from one decode. The old design: one decode per rung.
        floor = [
            ladder_args(source, [(r, out(r, "floor")) for r in rungs], info=info, progress=False)
        ]
        per_rung = [
            rendition_args(source, out(r, "rung"), r, info=info, progress=False) for r in rungs
        ]
        images = work / "bare-images"
        images.mkdir()
        thumbnail = [image_args(source, images, at_seconds=min(SECONDS * 0.1, 30.0), info=info)]

        def bare_pipeline() -> tuple[float, float, float]:
            """The pipeline's commands (probe, ladder, images) run bare: (wall s, wall s to the
            lowest rung, ladder CPU s)."""
            started = time.perf_counter()
            probe(source)
            _, lowest_cpu = run_all(ladder[:1])
            first = time.perf_counter() - started
            _, rest_cpu = run_all(ladder[1:])
            run_all(thumbnail)
            return time.perf_counter() - started, first, lowest_cpu + rest_cpu

        worker = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "high", "default", "--with-scheduler",
             "--worker-class", "content_app.pipeline.worker.PipelineWorker"],
            cwd=ROOT,
            env=env,
            stdout=(work / "worker.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        time.sleep(3)  # the worker imports Django and registers before any clock starts
        watch = MemoryWatch(worker.pid)
        watch.start()
        serial = iter(range(1_000_000))

        def save_films(count: int) -> tuple[list[Film], float]:
            with transaction.atomic():
                films = []
                for _ in range(count):
                    number = next(serial)
                    film = Film(title=f"Bench {number}", slug=f"bench-{number}")
                    with source.open("rb") as handle:
                        film.source.save("bench.mp4", File(handle), save=False)
                    film.save()
                    films.append(film)
            return films, time.perf_counter()

        def follow(films: list[Film], committed: float) -> tuple[list[float], list[float]]:
            """Seconds from commit to each film's first playable rendition and to `ready`."""
            playable: dict[int, float] = {}
            ready: dict[int, float] = {}
            has_ready = Exists(
                Rendition.objects.filter(film=OuterRef("pk"), status=RenditionStatus.READY)
            )
            while len(ready) < len(films):
                # One light query a poll for all films: 0.1 s of resolution on figures of
                # seconds without taking CPU from the worker being measured.
                rows = Film.objects.filter(pk__in=[f.pk for f in films]).annotate(
                    playable=has_ready
                )
                now = time.perf_counter() - committed
                for pk, state, error, any_ready in rows.values_list(
                    "pk", "processing_state", "processing_error", "playable"
                ):
                    if any_ready:
                        playable.setdefault(pk, now)
                    if state == ProcessingState.ERROR:
                        raise SystemExit(f"Pipeline failed: {error}")
                    if state == ProcessingState.READY:
                        ready.setdefault(pk, now)
                time.sleep(0.1)
            return [playable[f.pk] for f in films], [ready[f.pk] for f in films]

        rows: list[dict[str, float]] = []
        for number in range(1, ROUNDS + 1):
            print(
                f"Round {number}/{ROUNDS}: bare commands, pipeline, floor, per-rung...", flush=True
            )
            bare, bare_first, ladder_cpu = bare_pipeline()
            cpu_before = _tree_cpu(worker.pid)
            films, committed = save_films(1)
            committed_at = timezone.now()
            playable, ready = follow(films, committed)
            time.sleep(1)  # the last job process is reaped, its CPU counted
            pipeline_cpu = _tree_cpu(worker.pid) - cpu_before
            rows.append(
                {
                    "bare": bare,
                    "bare_first": bare_first,
                    "ready": ready[0],
                    "first": playable[0],
                    "ladder_cpu": ladder_cpu,
                    "floor_cpu": run_all(floor)[1],
                    "per_rung_cpu": run_all(per_rung)[1],
                    "pipeline_cpu": pipeline_cpu,
                }
            )

        # Where the time to first playable goes: the steps of the last single film, as
        # the worker recorded them (seconds after the commit).
        timeline = [
            f"{row.step} {(row.started_at - committed_at).total_seconds():.1f}"
            f"-{(row.finished_at - committed_at).total_seconds():.1f}"
            for row in ProcessingStep.objects.filter(film=films[0]).order_by("started_at")
            if row.started_at and row.finished_at
        ]

        print(f"Batch: {BATCH} films saved together...", flush=True)
        batch, committed = save_films(BATCH)
        batch_playable, batch_ready = follow(batch, committed)
        # One worker makes one lowest rung at a time: the last film cannot be playable
        # sooner than the first plus the other films' lowest rungs.
        lowest = {
            row.film_id: (row.finished_at - row.started_at).total_seconds()
            for row in ProcessingStep.objects.filter(film__in=batch, step=rungs[0].quality)
            if row.started_at and row.finished_at
        }
        first_film = batch[batch_playable.index(min(batch_playable))]
        watch.stop.set()
        watch.join()

        def med(key: str) -> float:
            return _median([row[key] for row in rows])

        print()
        size_mb = source.stat().st_size / 1e6
        print(f"source: {SECONDS:g} s {WIDTH}x{HEIGHT}@{FPS}, {size_mb:.0f} MB, rungs: "
              f"{', '.join(r.quality for r in rungs)}, one worker")  # fmt: skip
        columns = ["bare", "bare_first", "ready", "first", "ladder_cpu", "floor_cpu",
                   "per_rung_cpu", "pipeline_cpu"]  # fmt: skip
        print("round  " + "  ".join(f"{c:>12}" for c in columns))
        for number, row in enumerate(rows, 1):
            print(f"{number:>5}  " + "  ".join(f"{row[c]:>12.1f}" for c in columns))
        print("median " + "  ".join(f"{med(c):>12.1f}" for c in columns))
        print("(seconds; bare: the pipeline's FFmpeg commands run bare, bare_first: up to the")
        print(" lowest rung's; ready/first: commit to")
        print(" ready / first playable; *_cpu: CPU of the ladder's FFmpeg runs; pipeline_cpu: the")
        print(" worker and its job processes, Python included, for the whole film)")
        print()
        ratio = [row["ladder_cpu"] / row["floor_cpu"] for row in rows]
        old = [row["per_rung_cpu"] / row["floor_cpu"] for row in rows]
        print(f"ladder CPU / single-decode floor = {_median(ratio):.3f} (goal <= 1.15); "
              f"per-rung design: {_median(old):.3f}")  # fmt: skip
        ready_ratio = _median([row["ready"] / row["bare"] for row in rows])
        print(f"commit -> ready / bare commands = {ready_ratio:.3f} (goal <= 1.10)")
        first_ratio = _median([row["first"] / row["ready"] for row in rows])
        bare_first_ratio = _median([row["bare_first"] / row["bare"] for row in rows])
        print(f"first playable / ready = {first_ratio:.3f} (goal <= 0.15); the bare commands' "
              f"own: {bare_first_ratio:.3f}")  # fmt: skip
        print(f"steps of round {ROUNDS}'s film (s after commit): {', '.join(timeline)}")
        print(f"peak memory (VmHWM): worker {watch.peaks['worker'] / 1024:.0f} MB, "
              f"job process {watch.peaks['job'] / 1024:.0f} MB, "
              f"FFmpeg {watch.peaks['ffmpeg'] / 1024:.0f} MB")  # fmt: skip
        spread = max(batch_playable) / min(batch_playable)
        print(f"batch of {BATCH}: first playable after "
              f"{', '.join(f'{t:.1f}' for t in sorted(batch_playable))} s; "
              f"last / first = {spread:.2f} (goal <= 3)")  # fmt: skip
        others = sum(lowest.values()) - lowest.get(first_film.pk, 0.0)
        batch_floor = (min(batch_playable) + others) / min(batch_playable)
        print(f"batch of {BATCH}: each lowest rung took {_median(list(lowest.values())):.1f} s "
              f"(median); one "
              f"worker's floor for last / first: {batch_floor:.2f}")  # fmt: skip
        print(f"batch of {BATCH}: all ready after {max(batch_ready):.1f} s; {BATCH} single films "
              f"one after another: {BATCH * med('ready'):.1f} s")  # fmt: skip
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work skews the ratios)")
    finally:
        if worker is not None:
            stop_process(worker, timeout=30)
        seaweed.stop()
        stop_process(redis_server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
