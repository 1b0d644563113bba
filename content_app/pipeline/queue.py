"""Enqueueing pipeline work on RQ: job ids, timeouts, retries and the reconciler's schedule.

Each step of a source version has one job id, so RQ itself answers whether the step is
queued, running, waiting for a retry or given up: RQ's started-job registry notices a job
whose worker died and retries it like a failure (`RETRY`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from content_app.media.ffmpeg import ffmpeg_timeout
from content_app.models import QUALITY_HEIGHTS, Film

QUEUE = "default"
STEP_PROBE = "probe"
STEP_IMAGES = "images"
# Back-off for transient failures (S3, Redis, database unavailable) and for a job whose
# worker died: 4 runs in all.
RETRY = Retry(max=3, interval=[10, 60, 300])
RECONCILER_LOCK = "affea:pipeline:reconciler-scheduled"
# Statuses after which RQ will not run a job again by itself.
GIVEN_UP = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})

_FUNCS = {STEP_PROBE: "content_app.tasks.probe_film", STEP_IMAGES: "content_app.tasks.make_images"}


def get_queue() -> Queue:
    return django_rq.get_queue(QUEUE)


def step_job_id(film_id: int, version: int, step: str) -> str:
    return f"film-{film_id}-v{version}-{step}"


def step_job_status(film_id: int, version: int, step: str) -> JobStatus | None:
    """Return the RQ status of a step's job, or None if RQ does not know it (never or no longer)."""
    queue = get_queue()
    try:
        job = Job.fetch(step_job_id(film_id, version, step), connection=queue.connection)
    except NoSuchJobError:
        return None
    return job.get_status(refresh=False)


def _step_timeout(step: str, duration: float | None) -> int:
    height = QUALITY_HEIGHTS.get(step, 360)
    # Room for downloading the source and uploading the result on top of FFmpeg's own limit.
    return ffmpeg_timeout(duration, height=height) + 600


def enqueue_step(film_id: int, version: int, step: str, duration: float | None) -> None:
    args: tuple[object, ...] = (film_id, version)
    if step not in _FUNCS:
        args = (film_id, version, step)
    get_queue().enqueue(
        _FUNCS.get(step, "content_app.tasks.make_rendition"),
        *args,
        job_id=step_job_id(film_id, version, step),
        job_timeout=_step_timeout(step, duration),
        retry=RETRY,
        description=f"film {film_id} v{version}: {step}",
    )


def enqueue_source_saved(film: Film) -> None:
    """After commit, have a worker start processing the source `film` was just saved with."""
    film_id, source, version = film.pk, film.source.name or "", film.source_version
    transaction.on_commit(
        lambda: get_queue().enqueue(
            "content_app.tasks.process_saved_source", film_id, source, version, retry=RETRY
        )
    )


def enqueue_cleanup(
    keys: Sequence[str | None] | None = None, prefixes: Sequence[str] | None = None
) -> None:
    """Delete objects after the current transaction commits (never before: it may roll back)."""
    doomed = [key for key in keys or [] if key]
    under = [prefix for prefix in prefixes or [] if prefix]
    if not doomed and not under:
        return
    transaction.on_commit(
        lambda: get_queue().enqueue("content_app.tasks.delete_objects", doomed, under, retry=RETRY)
    )


def ensure_reconciler_scheduled() -> None:
    """Keep one self-renewing reconciler job scheduled in the worker's scheduler.

    The lock key lives a little less than one interval; whoever takes it schedules the
    next run, so concurrent callers cannot multiply the chain.
    """
    interval = max(5, settings.PIPELINE_RECONCILE_INTERVAL)
    queue = get_queue()
    if queue.connection.set(RECONCILER_LOCK, "1", nx=True, px=interval * 1000 - 1000):
        queue.enqueue_in(
            timedelta(seconds=interval),
            "content_app.tasks.reconcile",
            description="reconcile film processing",
        )
