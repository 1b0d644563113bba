"""Failures of a step: transient ones (a service unreachable, the worker's disk full) are
retried, all others are not.

A permanent failure (the source, FFmpeg refusing it, a missing output, a bug) puts the film
in `error` at once with a sentence naming the step; retrying it would only delay that
sentence. A transient one is retried with RQ's back-off while staff see what the step waits
for, and becomes an `error` when the last retry fails too.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import redis
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as StorageConnectionError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone
from rq import get_current_job
from s3transfer.exceptions import RetriesExceededError

from content_app.media.errors import MediaError
from content_app.models import Film
from content_app.pipeline.queue import RETRY, STEP_IMAGES, STEP_LADDER, STEP_PROBE
from content_app.pipeline.state import film_fail
from content_app.pipeline.timeline import step_ended, step_note, step_started

logger = logging.getLogger(__name__)

# S3 error codes that say "later", not "never".
_RETRYABLE_S3_CODES = frozenset(
    {"SlowDown", "Throttling", "RequestTimeout", "ServiceUnavailable", "InternalError"}
)


def step_label(step: str) -> str:
    if step == STEP_PROBE:
        return "Reading the source"
    if step == STEP_IMAGES:
        return "Thumbnail and poster"
    if step == STEP_LADDER:
        return "Higher renditions"
    return f"{step} rendition"


def _transient_kind(exc: BaseException) -> str | None:
    if isinstance(exc, StorageConnectionError | HTTPClientError | RetriesExceededError):
        return "storage unreachable"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status >= 500 or error.get("Code") in _RETRYABLE_S3_CODES:
            return "storage unavailable"
        return None
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "queue unreachable"
    if isinstance(exc, OperationalError | InterfaceError):
        return "database unreachable"
    if isinstance(exc, ConnectionError | TimeoutError):
        return "a service unreachable"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        # The worker's disk, not the film: space comes back as other steps end.
        return "worker's disk full"
    return None


def transient_kind(exc: BaseException) -> str | None:
    """Name the unreachable service behind `exc` (or what it wraps), or None if permanent."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = _transient_kind(current)
        if kind is not None:
            return kind
        current = current.__cause__ or current.__context__
    return None


def _note(film_id: int, version: int, note: str) -> None:
    current = Film.objects.filter(pk=film_id, source_version=version)
    try:
        current.exclude(processing_note=note).update(processing_note=note[:300])
    except DatabaseError:
        # The database is what is down: there is nowhere to say so; the retry still comes.
        logger.warning("film %s: could not record %r", film_id, note)


def _fail(film_id: int, version: int, step: str, reason: str) -> None:
    film_fail(film_id=film_id, version=version, reason=reason)
    step_ended(film_id=film_id, version=version, step=step, error=reason)


@contextmanager
def step_failures(*, film_id: int, version: int, step: str) -> Iterator[None]:
    """Turn what a step raises into a film `error`, or a note and an RQ retry; record each
    attempt for the timeline."""
    label = step_label(step)
    step_started(film_id=film_id, version=version, step=step)
    try:
        yield
    except MediaError as exc:
        _fail(film_id, version, step, f"{label}: {exc.message}")
        return
    except Exception as exc:
        kind = transient_kind(exc)
        if kind is None:
            logger.exception("film %s v%s: %s failed", film_id, version, step)
            _fail(
                film_id,
                version,
                step,
                f"{label}: an unexpected error stopped processing ({type(exc).__name__}; "
                "the details are in the worker's log). Use Reprocess to try again.",
            )
            return
        job = get_current_job()
        if job is None or not job.retries_left:
            logger.warning("film %s v%s: %s gave up: %s", film_id, version, step, exc)
            _fail(
                film_id,
                version,
                step,
                f"{label}: {kind} on every attempt; processing stopped. Use Reprocess "
                "once that is fixed.",
            )
            return
        attempt = RETRY.max - job.retries_left + 1
        at = timezone.localtime() + timedelta(seconds=job.get_retry_interval())
        note = f"{label}: {kind}, retry {attempt} at {at:%H:%M:%S}"
        _note(film_id, version, note)
        step_note(film_id=film_id, version=version, step=step, note=note)
        raise
    _note(film_id, version, "")
    step_ended(film_id=film_id, version=version, step=step)
