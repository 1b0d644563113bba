"""The reconciler: work left behind by a dead worker is enqueued again and finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import django_rq
import pytest
from django.core.management import call_command

from content_app import pipeline
from content_app.models import Film, ProcessingState, RenditionStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_reconciler_reenqueues_steps_whose_jobs_were_lost(make_video, upload, run_jobs, settings):
    settings.PIPELINE_HEARTBEAT_SECONDS = 0
    film = Film.objects.create(title="Lost", slug="lost", source=upload(make_video()))
    django_rq.get_queue("default").empty()  # the probe job vanished with Redis' data
    report = pipeline.films_reconcile()
    assert report == [f"film {film.pk}: re-enqueued probe (v1)"]
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY


def test_reconciler_leaves_queued_work_alone(make_video, upload, settings):
    settings.PIPELINE_HEARTBEAT_SECONDS = 0
    Film.objects.create(title="Waiting", slug="waiting", source=upload(make_video()))
    assert pipeline.films_reconcile() == []
    assert django_rq.get_queue("default").count == 1


def test_reconciler_gives_up_on_a_step_that_keeps_dying(make_video, upload, settings):
    settings.PIPELINE_HEARTBEAT_SECONDS = 0
    film = Film.objects.create(title="Doomed", slug="doomed", source=upload(make_video()))
    for _ in range(pipeline.MAX_RESTARTS + 1):
        django_rq.get_queue("default").empty()
        pipeline.films_reconcile()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR
    assert "Reprocess" in film.processing_error


def test_reconcile_command_schedules_the_periodic_reconciler(settings):
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


def _start_worker(env: dict[str, str], *, burst: bool) -> subprocess.Popen[bytes]:
    args = [sys.executable, "manage.py", "rqworker", "default"]
    args += ["--burst"] if burst else ["--with-scheduler"]
    # Its own session, so the kill takes the job process and FFmpeg with it, as a
    # machine or container dying would.
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_film_reaches_ready_after_its_worker_is_killed_mid_transcode(
    make_video, upload, subprocess_env, settings
):
    settings.PIPELINE_HEARTBEAT_SECONDS = 2
    env = {
        **subprocess_env,
        "PIPELINE_HEARTBEAT_SECONDS": "2",
        # Slow enough that the kill lands inside the 120p transcode.
        "FFMPEG_PRESET": "veryslow",
    }
    film = Film.objects.create(
        title="Killed", slug="killed", source=upload(make_video(width=640, height=360, seconds=6))
    )
    worker = _start_worker(env, burst=False)
    try:
        _wait_for(
            lambda: film.renditions.filter(status=RenditionStatus.PROCESSING).exists(),
            timeout=60,
            what="a rendition to start",
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.PROCESSING
    connection = django_rq.get_connection("default")
    _wait_for(
        lambda: not connection.keys("affea:pipeline:alive:*"),
        timeout=10,
        what="the dead worker's heartbeat to lapse",
    )
    call_command("reconcile_processing", stdout=open(os.devnull, "w"))  # noqa: SIM115
    fresh = _start_worker({**env, "FFMPEG_PRESET": "ultrafast"}, burst=True)
    assert fresh.wait(timeout=120) == 0
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert set(film.renditions.values_list("status", flat=True)) == {RenditionStatus.READY}
