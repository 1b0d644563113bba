"""What each step of a source version did, for staff's processing timeline (`ProcessingStep`).

Written by `failures.step_failures` around every step: an attempt starting, ending, failing
or waiting for a retry. Recording never fails a step: with the database unreachable the
step fails on its own database work anyway, and is retried for that.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, IntegrityError
from django.db.models import F, QuerySet
from django.utils import timezone

from content_app.models import Film, ProcessingStep

logger = logging.getLogger(__name__)


def _rows(film_id: int, version: int, step: str) -> QuerySet[ProcessingStep]:
    return ProcessingStep.objects.filter(film_id=film_id, source_version=version, step=step)


def _update(*, film_id: int, version: int, step: str, what: str, **fields: object) -> None:
    try:
        _rows(film_id, version, step).update(**fields)
    except DatabaseError:
        logger.warning("film %s: could not record %s for %s", film_id, what, step)


def step_started(*, film_id: int, version: int, step: str) -> None:
    """Count an attempt of `step` starting now."""
    fields = {
        "attempts": F("attempts") + 1,
        "started_at": timezone.now(),
        "finished_at": None,
        "error": "",
    }
    try:
        if _rows(film_id, version, step).update(**fields):
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
        _update(film_id=film_id, version=version, step=step, what="the start", **fields)
    except DatabaseError:
        logger.warning("film %s: could not record %s starting", film_id, step)


def step_ended(*, film_id: int, version: int, step: str, error: str | None = None) -> None:
    """Record the attempt's end: done, or failed with `error` (None keeps what the step said
    of itself, e.g. the ladder falling back to one job per rung)."""
    fields: dict[str, object] = {"finished_at": timezone.now()}
    if error is not None:
        fields["error"] = error[:2000]
    _update(film_id=film_id, version=version, step=step, what="the end", **fields)


def step_note(*, film_id: int, version: int, step: str, note: str) -> None:
    """Record what the attempt says of itself: the retry that comes after a passing failure,
    the ladder falling back to one job per rung."""
    _update(film_id=film_id, version=version, step=step, what=repr(note), error=note[:2000])
