"""Starting and restarting the processing of a film's source."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from content_app.catalogue_cache import catalogue_changed
from content_app.models import Film, ProcessingState, ProcessingStep
from content_app.pipeline.live import film_drop_unaired, film_drop_unaired_images
from content_app.pipeline.queue import (
    STEP_PROBE,
    enqueue_cleanup,
    enqueue_or_defer,
    enqueue_step,
    ensure_reconciler_scheduled,
)


@transaction.atomic
def film_processing_restart(*, film: Film) -> int:
    """Start processing `film`'s current source afresh; return the new source version.

    The version on air stays on air, its renditions and generated images with it, until
    the new version replaces it (pipeline.live, pipeline.steps); renditions of versions
    never aired are dropped and their objects deleted after commit. The probe is enqueued
    after commit.
    """
    locked = Film.objects.select_for_update().get(pk=film.pk)
    version = locked.source_version + 1
    doomed = film_drop_unaired(film=locked) + film_drop_unaired_images(film=locked)
    ProcessingStep.objects.filter(film=locked).delete()  # the timeline is the new version's
    fields: dict[str, object] = {
        "source_version": version,
        "processing_progress": 0,
        "processing_error": "",
        "processing_note": "",
        "processing_started_at": timezone.now(),
        "processing_source": locked.source.name or "",
        "source_probe": {},
        "duration": None,
        "source_width": None,
        "source_height": None,
    }
    has_source = bool(locked.source.name)
    if has_source:
        fields["processing_state"] = ProcessingState.PENDING
    else:
        fields.update(
            processing_state=ProcessingState.ERROR,
            processing_error="The film has no source file; upload one.",
        )
    Film.objects.filter(pk=film.pk).update(**fields)
    catalogue_changed()
    # The caller's instance reflects the new state, so a later save() does not undo it.
    for name, value in fields.items():
        setattr(film, name, value)
    enqueue_cleanup(doomed)
    if has_source:
        film_id = film.pk
        transaction.on_commit(
            lambda: enqueue_or_defer(
                f"film {film_id}'s probe", lambda: enqueue_step(film_id, version, STEP_PROBE, None)
            )
        )
        transaction.on_commit(
            lambda: enqueue_or_defer("the reconciler", ensure_reconciler_scheduled)
        )
    return version


@transaction.atomic
def film_source_saved(*, film_id: int, source: str, version: int) -> int | None:
    """Start processing a source saved outside the admin, unless that has been done already.

    `source` and `version` are what the film's row held when it was saved: if the version
    has moved on (the admin, or an earlier job, started processing) or the source was
    replaced again (its own job follows), nothing is done. Return the new version, if any.
    """
    film = (
        Film.objects.select_for_update()
        .filter(pk=film_id, source=source, source_version=version)
        .first()
    )
    return None if film is None else film_processing_restart(film=film)
