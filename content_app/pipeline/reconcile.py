"""The reconciler: the database says what processing is unfinished; RQ says what it still holds.

RQ re-runs a step whose worker died (its started-job registry expires the job and `RETRY`
applies) and gives up after the last retry. What RQ cannot know is work it lost: with
Redis restarted empty, no queue, registry or job remains, so the reconciler enqueues
again every unfinished step of a film that RQ does not know, starts processing a saved
source whose own job was lost (`processing_source` lags behind `source`), and puts a film
whose step RQ gave up on in `error`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from rq.job import JobStatus

from content_app.media import objects
from content_app.models import (
    Film,
    ProcessingState,
    Rendition,
    RenditionStatus,
    SourceUpload,
)
from content_app.pipeline.failures import step_label, transient_kind
from content_app.pipeline.images import images_requeue_lost
from content_app.pipeline.live import renditions_retired_delete
from content_app.pipeline.queue import (
    GIVEN_UP,
    LOWEST_RUNG,
    QUEUES,
    RETRY,
    STEP_LADDER,
    enqueue_step,
    get_queue,
    step_job_status,
    step_jobs,
)
from content_app.pipeline.restart import film_source_saved
from content_app.pipeline.state import film_fail, film_update_state, pending_steps

logger = logging.getLogger(__name__)


# An admin upload cut off by an S3 outage, or a direct upload abandoned in the browser,
# leaves a multipart upload: its parts are dropped once it is older than the setting.
def _stale_upload() -> timedelta:
    return timedelta(seconds=settings.UPLOAD_ABANDON_AFTER)


def _settle() -> timedelta:
    # Longer than a commit takes to enqueue its first step, so that step is not enqueued twice.
    return timedelta(seconds=settings.PIPELINE_RECONCILE_SETTLE)


def _sources_never_started() -> list[str]:
    """Start processing sources saved whose own job was lost (saved while Redis was down)."""
    report: list[str] = []
    lost = (
        Film.objects.exclude(source="")
        .exclude(source=F("processing_source"))
        .filter(updated_at__lt=timezone.now() - _settle())
    )
    for film in lost:
        version = film_source_saved(
            film_id=film.pk, source=film.source.name or "", version=film.source_version
        )
        if version is not None:
            report.append(f"film {film.pk}: processing of its saved source started (v{version})")
    return report


def _stale_uploads() -> list[str]:
    aborted = objects.abort_incomplete_uploads(prefix="films/", older_than=_stale_upload())
    SourceUpload.objects.abandoned().delete()
    return [f"aborted incomplete upload of {key}" for key in aborted]


def films_reconcile() -> list[str]:
    """Enqueue steps that RQ lost, fail films whose step RQ gave up on; report one line each."""
    # RQ's own handling of jobs whose worker died (retry, or fail after the last one), run
    # here as well as at workers' maintenance.
    for name in QUEUES:
        get_queue(name).started_job_registry.cleanup()
    report = _sources_never_started()
    report += _films_unfinished()
    # The chores that talk to S3 come after the films and apart from each other: storage
    # being down must not keep films from their steps or from `error`.
    report += _chore("lost image uploads", images_requeue_lost)
    report += _chore("abandoned uploads", _stale_uploads)
    report += _chore("replaced renditions", renditions_retired_delete)
    return report


def _chore(what: str, chore: Callable[[], list[str]]) -> list[str]:
    """Run one chore; a service it needs being down skips it until the next run."""
    try:
        return chore()
    except Exception as exc:
        kind = transient_kind(exc)
        if kind is None:
            raise
        logger.warning("reconciler: %s skipped, %s: %s", what, kind, exc)
        return [f"{what} skipped: {kind}"]


def _films_unfinished() -> list[str]:
    report: list[str] = []
    candidates = (
        Film.objects.filter(
            processing_state__in=(ProcessingState.PENDING, ProcessingState.PROCESSING)
        )
        .exclude(source="")
        .filter(
            Q(processing_started_at__isnull=True)
            | Q(processing_started_at__lt=timezone.now() - _settle())
        )
    )
    for film in candidates:
        version = film.source_version
        steps = pending_steps(film)
        if not steps:
            film_update_state(film_id=film.pk, version=version)
            report.append(f"film {film.pk}: all steps done, state settled")
            continue
        for step in steps:
            line = _step_reconcile(film, step)
            if line:
                report.append(f"film {film.pk}: {line}")
            if film.processing_state == ProcessingState.ERROR:
                break
    return report


def _step_reconcile(film: Film, step: str) -> str:
    """Fail the film if RQ gave up on `step`, enqueue it if no job can make it any more."""
    version = film.source_version
    statuses = {job: step_job_status(film.pk, version, job) for job in step_jobs(step)}
    given_up = [job for job, status in statuses.items() if status in GIVEN_UP]
    if given_up:
        film_fail(
            film_id=film.pk,
            version=version,
            reason=f"{step_label(given_up[0])}: stopped {RETRY.max + 1} times without finishing "
            "(worker crashes or unavailable services); use Reprocess to try again.",
        )
        film.processing_state = ProcessingState.ERROR
        return f"{given_up[0]} given up by RQ, film in error"
    if any(status not in (None, JobStatus.FINISHED) for status in statuses.values()):
        return ""  # queued, running or waiting for a retry
    # The ladder makes every higher rung at once, unless it already ran and fell back to
    # one job per rung.
    job = STEP_LADDER if statuses.get(STEP_LADDER, JobStatus.FINISHED) is None else step
    covered = [step] if job == step else list(_higher_rungs(film))
    running = Rendition.objects.filter(status=RenditionStatus.PROCESSING)
    running.filter(film=film, quality__in=covered, source_version=version).update(
        status=RenditionStatus.PENDING
    )
    enqueue_step(film.pk, version, job, film.duration)
    return f"re-enqueued {job} (v{version})"


def _higher_rungs(film: Film) -> list[str]:
    renditions = Rendition.objects.filter(film=film, source_version=film.source_version)
    return list(renditions.exclude(quality=LOWEST_RUNG).values_list("quality", flat=True))
