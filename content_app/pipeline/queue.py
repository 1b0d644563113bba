"""Enqueueing pipeline work on RQ: job ids, timeouts, retries and the reconciler's schedule.

Each step of a source version has one job id, so RQ itself answers whether the step is
queued, running, waiting for a retry or given up: RQ's started-job registry notices a job
whose worker died and retries it like a failure (`RETRY`).

Enqueueing never fails a save: with Redis unreachable the rows still say what is
unfinished, and the reconciler, re-armed by every worker, enqueues it once Redis is back.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta

import django_rq
import redis
from django.conf import settings
from django.db import transaction
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Dependency, Job, JobStatus

from content_app.media.ffmpeg import ffmpeg_timeout
from content_app.models import QUALITY_HEIGHTS, Film

logger = logging.getLogger(__name__)

QUEUE = "default"
# Workers listen to this queue first (`rqworker high default`): what makes a film playable
# (starting, the probe, the lowest rung) and its card (one frame) goes ahead of every
# film's higher rungs, so a film saved behind others is playable after seconds, not after
# their whole ladders.
QUEUE_HIGH = "high"
QUEUES = (QUEUE_HIGH, QUEUE)
STEP_PROBE = "probe"
STEP_IMAGES = "images"
# Every rung above the lowest, made from one decode of the source (pipeline.steps).
STEP_LADDER = "ladder"
LOWEST_RUNG = min(QUALITY_HEIGHTS, key=QUALITY_HEIGHTS.__getitem__)
_HIGH_STEPS = frozenset({STEP_PROBE, STEP_IMAGES, LOWEST_RUNG})
# Back-off for transient failures (S3, Redis, database unavailable) and for a job whose
# worker died: short at first, capped at a minute, so an outage costs at most about a
# minute once it ends, and spanning more than 5 minutes of outage in all.
RETRY = Retry(max=8, interval=[5, 15, 30, 60, 60, 60, 60, 60])
RECONCILER_LOCK = "affea:pipeline:reconciler-scheduled"
# Statuses after which RQ will not run a job again by itself.
GIVEN_UP = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})

_FUNCS = {
    STEP_PROBE: "content_app.tasks.probe_film",
    STEP_IMAGES: "content_app.tasks.make_images",
    STEP_LADDER: "content_app.tasks.make_ladder",
}


def get_queue(name: str = QUEUE) -> Queue:
    """Return a pipeline queue on a connection that gives up within the socket timeout.

    A paused Redis accepts connections and never answers: without a read timeout an admin
    save would hang on it.
    """
    connection = redis.Redis.from_url(
        settings.RQ_QUEUES[name]["URL"],
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )
    return django_rq.get_queue(name, connection=connection)


def step_queue(step: str) -> str:
    """Name the queue of a step: the high one for what makes a film playable first."""
    return QUEUE_HIGH if step in _HIGH_STEPS else QUEUE


def queue_available() -> bool:
    """Tell whether Redis answers now (a save then knows whether its work is queued)."""
    try:
        return bool(get_queue().connection.ping())
    except redis.exceptions.RedisError:
        return False


def enqueue_or_defer(what: str, enqueue: Callable[[], object]) -> None:
    """Run `enqueue`; with Redis unreachable, log it and leave the work to the reconciler."""
    try:
        enqueue()
    except redis.exceptions.RedisError as exc:
        logger.warning("queue unreachable, %s left to the reconciler: %s", what, exc)


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


def step_jobs(step: str) -> list[str]:
    """The steps whose jobs can make `step`: a higher rung's own job (when the ladder fell
    back to one job per rung) and the ladder's, which is tried first."""
    if step in QUALITY_HEIGHTS and step != LOWEST_RUNG:
        return [STEP_LADDER, step]
    return [step]


def _step_timeout(step: str, duration: float | None) -> int:
    if step == STEP_LADDER:
        heights = [h for q, h in QUALITY_HEIGHTS.items() if q != LOWEST_RUNG]
    else:
        heights = [QUALITY_HEIGHTS.get(step, 360)]
    # Room for downloading the source and uploading the result on top of FFmpeg's own limit.
    return sum(ffmpeg_timeout(duration, height=height) for height in heights) + 600


def _waits_for(film_id: int, version: int, step: str) -> Dependency | None:
    """The images wait for the lowest rung's job while it is queued or running.

    Enqueued only when the rung is done, a film's images go behind the lowest rungs of
    the films saved with it: six films saved together are all playable before any of
    them gets its card. Whether the rung succeeds or not, the images follow.
    """
    if step != STEP_IMAGES:
        return None
    # A rung job done, or unknown to RQ (expired, lost with Redis), is nothing to wait for.
    # If it ends between this check and the enqueue, RQ sees that and queues the images.
    if step_job_status(film_id, version, LOWEST_RUNG) in (None, JobStatus.FINISHED):
        return None
    return Dependency(jobs=[step_job_id(film_id, version, LOWEST_RUNG)], allow_failure=True)


def enqueue_step(film_id: int, version: int, step: str, duration: float | None) -> None:
    args: tuple[object, ...] = (film_id, version)
    if step not in _FUNCS:
        args = (film_id, version, step)
    get_queue(step_queue(step)).enqueue(
        _FUNCS.get(step, "content_app.tasks.make_rendition"),
        *args,
        job_id=step_job_id(film_id, version, step),
        job_timeout=_step_timeout(step, duration),
        retry=RETRY,
        depends_on=_waits_for(film_id, version, step),
        description=f"film {film_id} v{version}: {step}",
    )


def enqueue_source_saved(film: Film) -> None:
    """After commit, have a worker start processing the source `film` was just saved with."""
    film_id, source, version = film.pk, film.source.name or "", film.source_version
    transaction.on_commit(
        lambda: enqueue_or_defer(
            f"film {film_id}'s saved source",
            lambda: get_queue(QUEUE_HIGH).enqueue(
                "content_app.tasks.process_saved_source", film_id, source, version, retry=RETRY
            ),
        )
    )


def enqueue_cleanup(
    keys: Sequence[str | None] | None = None,
    prefixes: Sequence[str] | None = None,
    *,
    delay: timedelta | None = None,
) -> None:
    """Delete objects after the current transaction commits (never before: it may roll back),
    and `delay` later if given."""
    doomed = [key for key in keys or [] if key]
    under = [prefix for prefix in prefixes or [] if prefix]
    if not doomed and not under:
        return
    func = "content_app.tasks.delete_objects"

    def enqueue() -> object:
        if delay is None:
            return get_queue().enqueue(func, doomed, under, retry=RETRY)
        return get_queue().enqueue_in(delay, func, doomed, under, retry=RETRY)

    transaction.on_commit(
        lambda: enqueue_or_defer(
            f"deleting {len(doomed)} object(s) and {len(under)} prefix(es)", enqueue
        )
    )


def _reconciler_lock_ms() -> int:
    # Several intervals: a run delayed behind long jobs does not let a second chain start.
    return 3 * max(2, settings.PIPELINE_RECONCILE_INTERVAL) * 1000


def _schedule_reconcile(queue: Queue, token: str, seconds: int) -> None:
    queue.enqueue_in(
        timedelta(seconds=seconds),
        "content_app.tasks.reconcile",
        token,
        description="reconcile film processing",
    )


def ensure_reconciler_scheduled() -> bool:
    """Start the self-renewing reconciler chain unless one lives; return True if started.

    The chain holds a lock naming it, renewed by each run; workers call this at start and
    at every maintenance, so a chain lost with Redis starts again within moments.
    """
    queue = get_queue()
    token = secrets.token_hex(8)
    if not queue.connection.set(RECONCILER_LOCK, token, nx=True, px=_reconciler_lock_ms()):
        return False
    # The first run comes soon: a chain is started after Redis lost its state.
    _schedule_reconcile(queue, token, min(5, settings.PIPELINE_RECONCILE_INTERVAL))
    return True


def reconciler_renew(token: str) -> bool:
    """Schedule the next run of the chain `token`, unless another chain took over."""
    queue = get_queue()
    current = queue.connection.get(RECONCILER_LOCK)
    if current is not None and current not in (token, token.encode()):
        return False
    queue.connection.set(RECONCILER_LOCK, token, px=_reconciler_lock_ms())
    _schedule_reconcile(queue, token, max(2, settings.PIPELINE_RECONCILE_INTERVAL))
    return True
