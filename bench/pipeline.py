"""Benchmark of the content pipeline on a generated 60 s 1080p24 source, one worker.

Prints, all measured in this one run:
- commit -> `ready` time / the same FFmpeg commands run bare (goal <= 1.10);
- time to the first playable rendition / time to `ready` (goal <= 0.15);
- peak memory of the worker (Python, per job process) and of FFmpeg;
- the ladder's CPU time as four per-rung runs / one single-decode run with `split`.

Usage: .venv/bin/python bench/pipeline.py
It starts its own SeaweedFS, (re)creates the PostgreSQL database BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/affea_bench) and runs a private redis-server,
so no other worker can take its jobs.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from affea.localdev import free_port, start_redis, start_seaweed, stop_process  # noqa: E402

SECONDS, WIDTH, HEIGHT, FPS = 60, 1920, 1080, 24


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


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="affea-bench-"))
    redis_port = free_port()
    redis_server = start_redis(port=redis_port)  # private: no other worker takes its jobs
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "affea.settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
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
        import django_rq
        from django.core.files import File
        from django.core.management import call_command
        from django.db import transaction

        from content_app.media.ffmpeg import image_args, rendition_args, video_encoding_args
        from content_app.media.ladder import ladder_for
        from content_app.media.probe import probe
        from content_app.models import Film, ProcessingState, RenditionStatus

        call_command("migrate", verbosity=0)

        source = work / "source.mp4"
        print(f"Generating a {SECONDS} s {WIDTH}x{HEIGHT}@{FPS} source...", flush=True)
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=s={WIDTH}x{HEIGHT}:r={FPS}:d={SECONDS}",
             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={SECONDS}",
             "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "128k", str(source)],
            check=True,
        )  # fmt: skip
        rungs = ladder_for(WIDTH, HEIGHT)

        def bare_run() -> tuple[float, float]:
            """The pipeline's FFmpeg commands (probe, four rungs, images), one after another."""
            wall = cpu = 0.0
            t = time.perf_counter()
            probe(source)
            wall += time.perf_counter() - t
            for rung in rungs:
                out = work / f"bare-{rung.quality}"
                out.mkdir(exist_ok=True)
                w, c = _timed(rendition_args(source, out, rung, progress=False))
                wall, cpu = wall + w, cpu + c
            images = work / "bare-images"
            images.mkdir(exist_ok=True)
            w, c = _timed(image_args(source, images, at_seconds=6.0))
            return wall + w, cpu + c

        print("Bare FFmpeg commands (1/2)...", flush=True)
        bare_1, ladder_cpu_1 = bare_run()

        worker_log = work / "worker.log"
        worker = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "rqworker",
                "high",
                "default",
                "--with-scheduler",
                "--worker-class",
                "content_app.pipeline.worker.PipelineWorker",
            ],
            cwd=ROOT,
            env=env,
            stdout=worker_log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        time.sleep(3)  # the worker imports Django and registers before the clock starts
        watch = MemoryWatch(worker.pid)
        watch.start()
        print("Pipeline (one worker)...", flush=True)
        with transaction.atomic(), source.open("rb") as handle:
            film = Film(title="Bench", slug=f"bench-{int(time.time())}")
            film.source.save("bench.mp4", File(handle), save=False)
            film.save()
        committed = time.perf_counter()
        first_playable = None
        while True:
            film.refresh_from_db()
            if (
                first_playable is None
                and film.renditions.filter(status=RenditionStatus.READY).exists()
            ):
                first_playable = time.perf_counter() - committed
            if film.processing_state in (ProcessingState.READY, ProcessingState.ERROR):
                break
            time.sleep(0.25)  # resolution enough for 60 s of work, light on the CPU
        to_ready = time.perf_counter() - committed
        watch.stop.set()
        watch.join()
        if film.processing_state != ProcessingState.READY:
            raise SystemExit(f"Pipeline failed: {film.processing_error}")

        print("Bare FFmpeg commands (2/2)...", flush=True)
        bare_2, ladder_cpu_2 = bare_run()
        bare = (bare_1 + bare_2) / 2

        print("Single-decode ladder (split)...", flush=True)
        split_args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                      "-protocol_whitelist", "file", "-i", str(source)]  # fmt: skip
        labels = "".join(f"[s{i}]" for i in range(len(rungs)))
        graph = f"[0:v:0]split={len(rungs)}{labels};" + ";".join(
            f"[s{i}]scale={r.width}:{r.height}:flags=bicubic,setsar=1[v{i}]"
            for i, r in enumerate(rungs)
        )
        split_args += ["-filter_complex", graph]
        for i, rung in enumerate(rungs):
            out = work / f"split-{rung.quality}"
            out.mkdir(exist_ok=True)
            split_args += ["-map", f"[v{i}]", "-map", "0:a:0?", *video_encoding_args(rung)]
            split_args += ["-f", "mp4", "-movflags", "+frag_keyframe+empty_moov"]
            split_args += [str(out / "media.mp4")]
        split_wall, split_cpu = _timed(split_args)
        ladder_cpu = sum(
            _timed(rendition_args(source, work / f"bare-{r.quality}", r, progress=False))[1]
            for r in rungs
        )

        print()
        print(f"source: {SECONDS} s {WIDTH}x{HEIGHT}@{FPS}, rungs: "
              f"{', '.join(r.quality for r in rungs)}, preset from settings")  # fmt: skip
        print(f"bare FFmpeg commands: {bare_1:.1f} s and {bare_2:.1f} s (mean {bare:.1f} s)")
        print(f"commit -> ready: {to_ready:.1f} s; commit -> first playable: "
              f"{first_playable or 0:.1f} s")  # fmt: skip
        print(f"ready / bare = {to_ready / bare:.3f} (goal <= 1.10)")
        print(f"first playable / ready = {(first_playable or 0) / to_ready:.3f} (goal <= 0.15)")
        print(f"peak memory (VmHWM): worker {watch.peaks['worker'] / 1024:.0f} MB, "
              f"job process {watch.peaks['job'] / 1024:.0f} MB, "
              f"FFmpeg {watch.peaks['ffmpeg'] / 1024:.0f} MB")  # fmt: skip
        print(f"ladder CPU: per-rung runs {ladder_cpu:.1f} s, single-decode split "
              f"{split_cpu:.1f} s (wall {split_wall:.1f} s): "
              f"ratio {ladder_cpu / split_cpu:.2f}")  # fmt: skip
        print(f"(CPU of the bare pipeline commands: {ladder_cpu_1:.1f} s / {ladder_cpu_2:.1f} s)")
        queue = django_rq.get_queue("default")
        finished = [queue.fetch_job(i) for i in queue.finished_job_registry.get_job_ids()]
        retried = [j.id for j in finished if j and j.retries_left not in (None, 3)]
        print(f"jobs: {len(finished)} finished, retried: {retried or 'none'}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work skews the ratios)")
    finally:
        if worker is not None:
            stop_process(worker, timeout=30)
        seaweed.stop()
        stop_process(redis_server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
