"""Recovery: what RQ does by itself for a dead worker, and what the reconciler adds when Redis
lost everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import django_rq
import pytest
from django.core.management import call_command
from django.utils import timezone
from rq.job import JobStatus

from content_app import pipeline
from content_app.models import Film, ProcessingState, RenditionStatus
from content_app.pipeline.queue import RETRY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
WORKER_CLASS = "content_app.pipeline.worker.PipelineWorker"


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _settled(film: Film) -> None:
    """Age the film's processing past the reconciler's settling time."""
    Film.objects.filter(pk=film.pk).update(
        processing_started_at=timezone.now() - timedelta(hours=1)
    )


def _requeue_retries() -> None:
    """Move scheduled retries forward instead of waiting out their back-off."""
    for name in ("high", "default"):
        scheduled = django_rq.get_queue(name).scheduled_job_registry
        for job_id in scheduled.get_job_ids():
            scheduled.requeue(job_id)


def test_film_reaches_ready_after_redis_restarted_empty_mid_processing(
    make_video, upload, run_jobs, redis_connection
):
    """The reconciler is needed here: RQ alone would leave the film stuck in `processing`,
    because its queues, registries and jobs were lost with Redis; only the film's rows say
    which steps are unfinished."""
    film = Film.objects.create(
        title="Lost", slug="lost", source=upload(make_video(width=640, height=360))
    )
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=3, with_scheduler=False)  # saved source, probe, 120p
    redis_connection.flushdb()
    _settled(film)
    report = pipeline.films_reconcile()
    assert report == [
        f"film {film.pk}: re-enqueued ladder (v1)",
        f"film {film.pk}: re-enqueued images (v1)",
    ]
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY


def test_reconciler_leaves_work_that_rq_still_holds_alone(make_video, upload, run_jobs):
    film = Film.objects.create(title="Waiting", slug="waiting", source=upload(make_video()))
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=1, with_scheduler=False)  # the probe is now queued
    _settled(film)
    assert pipeline.films_reconcile() == []
    assert django_rq.get_queue("high").count == 1


def test_storage_unreachable_on_every_attempt_ends_in_error_naming_the_step(
    make_video, upload, run_jobs, storage_unreachable
):
    film = Film.objects.create(title="Doomed", slug="doomed", source=upload(make_video()))
    with storage_unreachable():
        run_jobs()
        for _ in range(RETRY.max):
            _requeue_retries()
            run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR
    assert film.processing_error.startswith("Reading the source: storage unreachable")
    assert "Reprocess" in film.processing_error


def test_film_whose_step_rq_gave_up_on_ends_in_error(make_video, upload, run_jobs):
    """A step whose workers kept dying is failed by RQ without our code running: the
    reconciler tells staff."""
    film = Film.objects.create(title="Crashing", slug="crashing", source=upload(make_video()))
    _probe_given_up(film)
    assert pipeline.films_reconcile() == [f"film {film.pk}: probe given up by RQ, film in error"]
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR
    assert "Reprocess" in film.processing_error


def _probe_given_up(film: Film) -> None:
    """As RQ leaves a step whose workers kept dying: failed, no retry left."""
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=1, with_scheduler=False)  # the probe is now queued
    queue = django_rq.get_queue("high")
    job = queue.fetch_job(f"film-{film.pk}-v1-probe")
    assert job is not None
    queue.remove(job)
    job.set_status(JobStatus.FAILED)
    _settled(film)


def test_film_whose_step_rq_gave_up_on_ends_in_error_while_storage_is_down(
    make_video, upload, storage_unreachable
):
    film = Film.objects.create(title="Crashing", slug="crashing", source=upload(make_video()))
    _probe_given_up(film)
    with storage_unreachable():
        report = pipeline.films_reconcile()
    assert report == [
        f"film {film.pk}: probe given up by RQ, film in error",
        "abandoned uploads skipped: storage unreachable",
    ]
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR


def test_steps_lost_with_redis_are_enqueued_again_while_storage_is_down(
    make_video, upload, run_jobs, redis_connection, storage_unreachable
):
    film = Film.objects.create(title="Lost", slug="lost", source=upload(make_video()))
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=1, with_scheduler=False)  # the probe is now queued
    redis_connection.flushdb()
    _settled(film)
    with storage_unreachable():
        assert f"film {film.pk}: re-enqueued probe (v1)" in pipeline.films_reconcile()
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY


def test_reconcile_command_schedules_the_periodic_reconciler():
    call_command("reconcile_processing", stdout=open(os.devnull, "w"))  # noqa: SIM115
    scheduled = django_rq.get_queue("default").scheduled_job_registry.get_job_ids()
    jobs = [django_rq.get_queue("default").fetch_job(job_id) for job_id in scheduled]
    assert [job.func_name for job in jobs if job] == ["content_app.tasks.reconcile"]


def test_periodic_reconciler_job_schedules_its_next_run(settings):
    from content_app import tasks

    settings.PIPELINE_RECONCILE_INTERVAL = 5
    tasks.reconcile()
    registry = django_rq.get_queue("default").scheduled_job_registry
    assert len(registry.get_job_ids()) == 1
    pipeline.ensure_reconciler_scheduled()  # a second caller within the interval adds nothing
    assert len(registry.get_job_ids()) == 1


def test_film_reaches_ready_after_its_worker_is_killed_mid_transcode(
    make_video, upload, run_jobs, subprocess_env, redis_connection, tmp_path
):
    """RQ alone recovers this, so there is no liveness code of ours: the dead worker stops
    renewing its job's entry in the started-job registry, RQ's clean-up of that registry then
    treats the job as failed and `Retry` runs it again. The reconciler only runs that clean-up
    more often than a worker's own maintenance (every 10 minutes)."""
    film = Film.objects.create(
        title="Killed", slug="killed", source=upload(make_video(width=640, height=360, seconds=6))
    )
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "rqworker",
            "high",
            "default",
            "--worker-class",
            WORKER_CLASS,
        ],
        cwd=ROOT,
        # Slow enough that the kill lands inside the 120p transcode.
        env={**subprocess_env, "FFMPEG_PRESET": "veryslow"},
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own session, so the kill takes the job process and FFmpeg with it, as a
        # machine or container dying would.
        start_new_session=True,
    )
    try:
        _wait_for(
            lambda: film.renditions.filter(status=RenditionStatus.PROCESSING).exists(),
            timeout=60,
            what="a rendition to start",
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    queue = django_rq.get_queue("high")  # where the lowest rung goes
    job_id = f"film-{film.pk}-v1-120p"
    started = queue.started_job_registry
    assert [
        member.decode().split(":")[0] for member in redis_connection.zrange(started.key, 0, -1)
    ] == [job_id]
    # Stand in for the seconds (heartbeat interval + grace) after which the dead worker's
    # entry expires.
    redis_connection.zadd(
        started.key, dict.fromkeys(redis_connection.zrange(started.key, 0, -1), 1)
    )
    _settled(film)
    assert pipeline.films_reconcile() == []
    job = queue.fetch_job(job_id)
    assert job is not None
    assert (job.get_status(), job.retries_left) == ("scheduled", RETRY.max - 1)
    _requeue_retries()
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert set(film.renditions.values_list("status", flat=True)) == {RenditionStatus.READY}
