"""The reconciler: the database says what processing is unfinished; RQ says what it still holds.

RQ re-runs a step whose worker died (its started-job registry expires the job and `RETRY`
applies) and gives up after the last retry. What RQ cannot know is work it lost: with
Redis restarted empty, no queue, registry or job remains, so the reconciler enqueues
again every unfinished step of a film that RQ does not know, starts processing a saved
source whose own job was lost (`processing_source` lags behind `source`), and puts a film
whose step RQ gave up on in `error`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from content_app.media import objects
from content_app.models import Film, ProcessingState, Rendition, RenditionStatus
from content_app.pipeline.queue import (
    GIVEN_UP,
    QUEUES,
    RETRY,
    enqueue_step,
    get_queue,
    step_job_status,
)
from content_app.pipeline.restart import film_source_saved
from content_app.pipeline.state import film_fail, film_update_state, pending_steps


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
    return [f"aborted incomplete upload of {key}" for key in aborted]


def films_reconcile() -> list[str]:
    """Enqueue steps that RQ lost, fail films whose step RQ gave up on; report one line each."""
    # RQ's own handling of jobs whose worker died (retry, or fail after the last one), run
    # here as well as at workers' maintenance.
    for name in QUEUES:
        get_queue(name).started_job_registry.cleanup()
    report = _sources_never_started()
    report += _stale_uploads()
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
            status = step_job_status(film.pk, version, step)
            if status in GIVEN_UP:
                film_fail(
                    film_id=film.pk,
                    version=version,
                    reason=f"{step}: stopped {RETRY.max + 1} times without finishing (worker "
                    "crashes or unavailable services); use Reprocess to try again.",
                )
                report.append(f"film {film.pk}: {step} given up by RQ, film in error")
                break
            if status is None:
                running = Rendition.objects.filter(status=RenditionStatus.PROCESSING)
                running.filter(film=film, quality=step, source_version=version).update(
                    status=RenditionStatus.PENDING
                )
                enqueue_step(film.pk, version, step, film.duration)
                report.append(f"film {film.pk}: re-enqueued {step} (v{version})")
    return report
