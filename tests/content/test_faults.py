"""Faults heal by themselves: Redis emptied, paused or down, S3 down, workers killed or stopped.

Each test starts the service it breaks (a redis-server on a free port, workers as
subprocesses) with short intervals, so healing is measured in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.urls import reverse
from rq import Queue
from rq.job import JobStatus

from affea.localdev import free_port, start_redis, stop_process
from content_app import pipeline
from content_app.models import Film, ProcessingState, RenditionStatus
from content_app.pipeline.queue import step_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
WORKER_CLASS = "content_app.pipeline.worker.PipelineWorker"
FAST = {
    "PIPELINE_RECONCILE_INTERVAL": "2",
    "PIPELINE_RECONCILE_SETTLE": "1",
    "PIPELINE_WORKER_MAINTENANCE_INTERVAL": "2",
    "PIPELINE_JOB_HEARTBEAT_INTERVAL": "1",
}


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> float:
    """Wait until `condition()` is true; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class OwnRedis:
    """A redis-server this test started, on its own port, to kill, pause and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = start_redis(port=self.port)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def restart_empty(self) -> None:
        self.kill()
        self.process = start_redis(port=self.port)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)


@pytest.fixture
def own_redis(settings) -> Iterator[OwnRedis]:
    server = OwnRedis()
    settings.RQ_QUEUES = {
        name: {**settings.RQ_QUEUES[name], "URL": server.url} for name in ("high", "default")
    }
    settings.REDIS_SOCKET_TIMEOUT = 0.5
    yield server
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGCONT)
        stop_process(server.process)


@pytest.fixture
def start_worker(subprocess_env, own_redis, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start PipelineWorkers on `own_redis`, with their temp dirs under tmp_path/tmp."""
    started: list[subprocess.Popen] = []
    (tmp_path / "tmp").mkdir()

    def start(*, scheduler: bool = True, **env: str) -> subprocess.Popen:
        args = [
            sys.executable,
            "manage.py",
            "rqworker",
            "high",
            "default",
            "--worker-class",
            WORKER_CLASS,
        ]
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [*args, *(["--with-scheduler"] if scheduler else [])],
            cwd=ROOT,
            env={**subprocess_env, **FAST, "REDIS_URL": own_redis.url,
                 "TMPDIR": str(tmp_path / "tmp"), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a kill of its group takes the job and FFmpeg with it
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _state(film: Film) -> str:
    film.refresh_from_db()
    return film.processing_state


def _film(upload, make_video, **video: float) -> Film:
    return Film.objects.create(
        title="Fault", slug="fault", source=upload(make_video(width=640, height=360, **video))
    )


def _rendition_running(film: Film) -> bool:
    return film.renditions.filter(status=RenditionStatus.PROCESSING).exists()


def _workspaces(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "tmp").glob("affea-*"))


def test_film_in_flight_reaches_ready_after_redis_restarted_empty(
    own_redis, start_worker, make_video, upload
):
    film = _film(upload, make_video, seconds=6)
    start_worker(FFMPEG_PRESET="veryslow")
    wait_for(lambda: _rendition_running(film), timeout=60, what="a rendition to start")
    own_redis.restart_empty()
    took = wait_for(lambda: _state(film) == ProcessingState.READY, timeout=120, what="ready")
    assert took < 120


def test_admin_save_while_redis_is_paused_is_saved_with_a_message_and_processed_later(
    own_redis, start_worker, make_video, admin_client
):
    own_redis.process.send_signal(signal.SIGSTOP)
    with make_video().open("rb") as video:
        response = admin_client.post(
            reverse("admin:content_app_film_add"),
            {"title": "Paused", "slug": "", "source": video, **_INLINES},
            follow=True,
        )
    assert response.status_code == 200
    assert "processing will start when the queue is back" in response.content.decode()
    film = Film.objects.get(title="Paused")
    assert film.processing_state == ProcessingState.PENDING
    own_redis.process.send_signal(signal.SIGCONT)
    start_worker()
    wait_for(lambda: _state(film) == ProcessingState.READY, timeout=60, what="ready")


def test_source_saved_while_redis_is_down_is_processed_once_it_is_back(
    own_redis, start_worker, make_video, upload
):
    own_redis.kill()
    film = Film.objects.create(title="Shell", slug="shell", source=upload(make_video()))
    assert film.processing_source == ""
    own_redis.process = start_redis(port=own_redis.port)
    start_worker()
    wait_for(lambda: _state(film) == ProcessingState.READY, timeout=60, what="ready")


def test_killed_worker_step_runs_again_within_a_minute_and_its_temp_dir_goes(
    start_worker, make_video, upload, tmp_path
):
    film = _film(upload, make_video, seconds=6)
    first = start_worker(FFMPEG_PRESET="veryslow")
    wait_for(lambda: _rendition_running(film), timeout=60, what="a rendition to start")
    wait_for(lambda: _workspaces(tmp_path), timeout=10, what="the step's temp dir")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    second = start_worker()
    took = wait_for(lambda: _state(film) == ProcessingState.READY, timeout=60, what="ready")
    assert took < 60
    # What the killed worker and its job left is gone; the live worker keeps the source
    # copy its job processes shared, in its own name.
    left = [path.name for path in _workspaces(tmp_path)]
    assert len(left) <= 1, left
    assert all(name.startswith(f"affea-p{second.pid}-{film.pk}-source-") for name in left), left


def test_warm_stop_puts_the_running_step_back_at_once(
    start_worker, make_video, upload, tmp_path, own_redis
):
    film = _film(upload, make_video, seconds=6)
    worker = start_worker(FFMPEG_PRESET="veryslow")
    wait_for(lambda: _rendition_running(film), timeout=60, what="a rendition to start")
    running = film.renditions.get(status=RenditionStatus.PROCESSING).quality
    worker.send_signal(signal.SIGTERM)  # what `docker stop` sends first
    worker.wait(timeout=10)
    queued = [
        job.decode() for job in own_redis.client().lrange(f"rq:queue:{step_queue(running)}", 0, 0)
    ]
    assert queued == [f"film-{film.pk}-v1-{running}"]
    assert _workspaces(tmp_path) == []
    start_worker()
    wait_for(lambda: _state(film) == ProcessingState.READY, timeout=60, what="ready")


def _check_worker(env: dict[str, str], *flags: str) -> bool:
    done = subprocess.run(
        [sys.executable, "manage.py", "check_worker", *flags],
        cwd=ROOT, env=env, capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    return done.returncode == 0


def _check_scheduler(env: dict[str, str]) -> bool:
    return _check_worker(env, "--scheduler")


def test_scheduler_comes_back_after_redis_drops_and_health_check_fails_meanwhile(
    own_redis, start_worker, subprocess_env
):
    env = {**subprocess_env, "REDIS_URL": own_redis.url}
    start_worker()
    wait_for(lambda: _check_scheduler(env), timeout=30, what="a healthy scheduler")
    own_redis.kill()
    assert not _check_scheduler(env)
    time.sleep(3)  # the scheduler's next heartbeat meets no Redis and its process ends
    own_redis.process = start_redis(port=own_redis.port)
    took = wait_for(lambda: _check_scheduler(env), timeout=60, what="the scheduler back")
    assert took < 60
    assert own_redis.client().exists(pipeline.queue.RECONCILER_LOCK)


_INLINES = {
    f"{prefix}-{name}": value
    for prefix in ("subtitles", "renditions")
    for name, value in (
        ("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"),
        ("MAX_NUM_FORMS", "1000"),
    )
}  # fmt: skip


def test_admin_upload_while_s3_is_down_is_a_form_error_that_saves_nothing(
    settings, make_video, admin_client, seaweed
):
    from tests.conftest import _reset_storage_caches

    endpoint = settings.AWS_S3_ENDPOINT_URL
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing answers there
    _reset_storage_caches()
    try:
        with make_video().open("rb") as video:
            response = admin_client.post(
                reverse("admin:content_app_film_add"),
                {"title": "Unstored", "slug": "", "source": video, **_INLINES},
            )
    finally:
        settings.AWS_S3_ENDPOINT_URL = endpoint
        _reset_storage_caches()
    assert response.status_code == 200
    assert "File storage cannot be reached right now, so nothing was saved" in (
        response.content.decode()
    )
    assert not Film.objects.exists()


def test_reconciler_aborts_an_upload_cut_off_by_a_storage_outage(seaweed, settings):
    client = seaweed.client()
    key = "films/cut-off/source-0.mp4"
    upload = client.create_multipart_upload(Bucket=seaweed.bucket, Key=key)
    client.upload_part(
        Bucket=seaweed.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1,
        Body=b"x" * 1024,
    )  # fmt: skip
    settings.UPLOAD_ABANDON_AFTER = 0
    assert f"aborted incomplete upload of {key}" in pipeline.films_reconcile()
    listed = client.list_multipart_uploads(Bucket=seaweed.bucket, Prefix="films/")
    assert listed.get("Uploads", []) == []


def test_worker_outlives_redis_dropping_while_a_job_ends(own_redis, start_worker, subprocess_env):
    """RQ's own worker quits when Redis is gone as a job ends; ours waits for it and goes on."""
    queue = Queue("default", connection=own_redis.client())
    job = queue.enqueue("time.sleep", 2)
    worker = start_worker(scheduler=False)
    wait_for(lambda: job.get_status(refresh=True) == JobStatus.STARTED, timeout=30, what="the job")
    own_redis.kill()
    time.sleep(4)  # the job ends while Redis is down
    assert worker.poll() is None
    own_redis.process = start_redis(port=own_redis.port)
    env = {**subprocess_env, "REDIS_URL": own_redis.url}
    wait_for(lambda: _check_worker(env), timeout=60, what="the worker registered again")
    assert worker.poll() is None
