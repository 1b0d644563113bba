"""What each step of a source version did, for staff's processing timeline (`ProcessingStep`).

Written by `failures.step_failures` around every step: an attempt starting, ending, failing
or waiting for a retry. Recording never fails a step: with the database unreachable the
step fails on its own database work anyway, and is retried for that.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, IntegrityError
from django.db.models import F
from django.utils import timezone

from content_app.models import Film, ProcessingStep

logger = logging.getLogger(__name__)


def step_started(*, film_id: int, version: int, step: str) -> None:
    """Count an attempt of `step` starting now."""
    fields = {
        "attempts": F("attempts") + 1,
        "started_at": timezone.now(),
        "finished_at": None,
        "error": "",
    }
    rows = ProcessingStep.objects.filter(film_id=film_id, source_version=version, step=step)
    try:
        if rows.update(**fields):
            return
        if not Film.objects.filter(pk=film_id, source_version=version).exists():
            return  # replaced or deleted: the step will do nothing either
        ProcessingStep.objects.create(
            film_id=film_id,
            source_version=version,
            step=step,
            attempts=1,
            started_at=timezone.now(),
        )
    except IntegrityError:
        # Created meanwhile (a second worker on a re-enqueued step), or the film deleted.
        rows.update(**fields)
    except DatabaseError:
        logger.warning("film %s: could not record %s starting", film_id, step)


def step_ended(*, film_id: int, version: int, step: str, error: str | None = None) -> None:
    """Record the attempt's end: done, or failed with `error` (None keeps what the step said
    of itself, e.g. the ladder falling back to one job per rung)."""
    rows = ProcessingStep.objects.filter(film_id=film_id, source_version=version, step=step)
    fields: dict[str, object] = {"finished_at": timezone.now()}
    if error is not None:
        fields["error"] = error[:2000]
    try:
        rows.update(**fields)
    except DatabaseError:
        logger.warning("film %s: could not record %s ending", film_id, step)


def step_note(*, film_id: int, version: int, step: str, note: str) -> None:
    """Record what the attempt says of itself: the retry that comes after a passing failure,
    the ladder falling back to one job per rung."""
    rows = ProcessingStep.objects.filter(film_id=film_id, source_version=version, step=step)
    try:
        rows.update(error=note[:2000])
    except DatabaseError:
        logger.warning("film %s: could not record %r for %s", film_id, note, step)
