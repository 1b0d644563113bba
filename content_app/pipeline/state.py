"""A film's processing state and progress, derived from its rows for the current source version.

Every write is filtered on `source_version`, so work for a source that has since been
replaced changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from django.db import transaction
from django.db.models import Q

from content_app.catalogue_cache import catalogue_changed
from content_app.models import QUALITY_HEIGHTS, Film, ProcessingState, Rendition, RenditionStatus
from content_app.pipeline.live import film_go_live_if_due
from content_app.pipeline.queue import LOWEST_RUNG, STEP_IMAGES, STEP_LADDER, STEP_PROBE

_IMAGES_WEIGHT = 0.5


def _weight(quality: str) -> float:
    # Encoding cost grows with the picture area; 1 stands for decoding the source.
    return 1 + (QUALITY_HEIGHTS[quality] / 360) ** 2


def current_film(film_id: int, version: int) -> Film | None:
    """Return the film if `version` is still its source and its processing still runs."""
    film = Film.objects.filter(pk=film_id, source_version=version).first()
    if film is None or not film.source.name or film.processing_state == ProcessingState.ERROR:
        return None
    return film


def film_processing_shown(*, film_id: int, version: int) -> None:
    """Show the film as processing, unless a step on another worker has failed it since
    this one started (its `error` stands)."""
    Film.objects.filter(pk=film_id, source_version=version).exclude(
        processing_state=ProcessingState.ERROR
    ).update(processing_state=ProcessingState.PROCESSING)


def film_fail(*, film_id: int, version: int, reason: str) -> None:
    """Put the film in `error` with `reason`, unless its source has moved on."""
    if Film.objects.filter(pk=film_id, source_version=version).update(
        processing_state=ProcessingState.ERROR, processing_error=reason[:2000]
    ):
        catalogue_changed()


def generated_image_marker(version: int) -> str:
    """What the key of an image generated for `version` contains (pipeline.steps)."""
    return f"images/v{version}-"


def _images_current(version: int) -> Q:
    """The film has both images: staff's own, or generated for this very version, shown or
    waiting for it to go on air (those of an earlier version stay on show until then)."""
    marker = generated_image_marker(version)
    staged = Q(images_next__version=version)

    def ready(name: str) -> Q:
        shown = ~Q(**{name: ""}) & (
            Q(**{f"{name}_generated": False}) | Q(**{f"{name}__contains": marker})
        )
        return shown | (staged & Q(images_next__has_key=name))

    return ready("thumbnail") & ready("poster")


def step_done(film_id: int, version: int, step: str) -> bool:
    if step == STEP_PROBE:
        return Film.objects.filter(
            pk=film_id, source_version=version, duration__isnull=False
        ).exists()
    if step == STEP_IMAGES:
        current = Film.objects.filter(pk=film_id, source_version=version)
        return current.filter(_images_current(version)).exists()
    renditions = Rendition.objects.filter(film_id=film_id, source_version=version)
    if step == STEP_LADDER:
        higher = renditions.exclude(quality=LOWEST_RUNG)
        return not higher.exclude(status=RenditionStatus.READY).exists()
    return renditions.filter(quality=step, status=RenditionStatus.READY).exists()


def pending_steps(film: Film) -> list[str]:
    """Return the steps of the film's current source that have not finished, lowest first."""
    if film.duration is None:
        return [STEP_PROBE]
    steps = list(
        Rendition.objects.filter(film=film, source_version=film.source_version)
        .exclude(status=RenditionStatus.READY)
        .order_by("height")
        .values_list("quality", flat=True)
    )
    if not step_done(film.pk, film.source_version, STEP_IMAGES):
        steps.append(STEP_IMAGES)
    return steps


def _progress_forward(film_id: int, version: int, percent: int) -> None:
    # Only ever forward: steps on parallel workers report their own views of it.
    Film.objects.filter(pk=film_id, source_version=version, processing_progress__lt=percent).update(
        processing_progress=percent
    )


class ProgressReporter:
    """Turn one FFmpeg run's fraction into the film's percentage, written at most once a second."""

    def __init__(self, film_id: int, version: int, qualities: Collection[str]) -> None:
        self.film_id, self.version = film_id, version
        rows = list(
            Rendition.objects.filter(film_id=film_id, source_version=version).values_list(
                "quality", "status"
            )
        )
        self.total = sum(_weight(q) for q, _ in rows) + _IMAGES_WEIGHT
        self.done = sum(
            _weight(q) for q, s in rows if s == RenditionStatus.READY and q not in qualities
        )
        self.own = sum(_weight(q) for q in qualities)
        self.last_write = 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last_write < 1.0:
            return
        self.last_write = now
        percent = int(99 * (self.done + self.own * fraction) / self.total)
        _progress_forward(self.film_id, self.version, percent)


def film_update_state(*, film_id: int, version: int) -> None:
    """Put the version on air when due; mark the film `ready` once every expected rendition
    and both images exist."""
    renditions = Rendition.objects.filter(film_id=film_id, source_version=version)
    statuses = list(renditions.values_list("quality", "status"))
    if not statuses:
        return
    if any(status != RenditionStatus.READY for _, status in statuses):
        done = sum(_weight(q) for q, status in statuses if status == RenditionStatus.READY)
        total = sum(_weight(q) for q, _ in statuses) + _IMAGES_WEIGHT
        _progress_forward(film_id, version, int(99 * done / total))
        film_go_live_if_due(film_id=film_id, version=version, complete=False)
        return
    finished = Film.objects.filter(pk=film_id, source_version=version, duration__isnull=False)
    complete = finished.filter(_images_current(version)).exclude(
        processing_state=ProcessingState.ERROR
    )
    with transaction.atomic():
        # On air and `ready` together: staff never see `ready` with the old version playing.
        film_go_live_if_due(film_id=film_id, version=version, complete=complete.exists())
        if complete.exclude(processing_state=ProcessingState.READY).update(
            processing_state=ProcessingState.READY, processing_progress=100, processing_error=""
        ):
            catalogue_changed()
