"""What staff see of a film's processing while it runs: state, percent, step, note, error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from content_app.models import Film, ProcessingState, Rendition, RenditionStatus

_STEP_NAMES = {"probe": "reading the source", "images": "making the thumbnail and poster"}


def films_with_renditions(ids: list[int]) -> QuerySet[Film]:
    current = Rendition.objects.order_by("height")
    return Film.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("renditions", queryset=current, to_attr="current_renditions")
    )


def _renditions(film: Film) -> list[Rendition]:
    rows: list[Rendition] | None = getattr(film, "current_renditions", None)
    if rows is None:
        rows = list(film.renditions.order_by("height"))
    return [r for r in rows if r.source_version == film.source_version]


def current_step(film: Film) -> str:
    """The step a film's processing is at, in words ("" once it has stopped)."""
    if film.processing_state not in (ProcessingState.PENDING, ProcessingState.PROCESSING):
        return ""
    if not film.source.name:
        return ""
    if film.duration is None:
        return _STEP_NAMES["probe"]
    renditions = _renditions(film)
    running = [r.quality for r in renditions if r.status == RenditionStatus.PROCESSING]
    if running:
        return "making " + ", ".join(running)
    waiting = [r.quality for r in renditions if r.status == RenditionStatus.PENDING]
    if waiting:
        return f"waiting for a worker ({waiting[0]} next)"
    return _STEP_NAMES["images"]


def film_status(film: Film) -> dict[str, object]:
    """The JSON the admin pages poll."""
    ready = [r.quality for r in _renditions(film) if r.status == RenditionStatus.READY]
    return {
        "id": film.pk,
        "state": film.processing_state,
        "state_label": film.get_processing_state_display(),
        "percent": film.processing_progress,
        "step": current_step(film),
        "note": film.processing_note,
        "error": film.processing_error if film.processing_state == ProcessingState.ERROR else "",
        "ready_qualities": ready,
    }


@dataclass(frozen=True)
class TimelineEntry:
    step: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    error: str

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds(), 1)
        return None


def film_timeline(film: Film) -> list[TimelineEntry]:
    """Each step of the current source's processing, as far as the rows record it.

    Rows keep one start and end per rendition; retries of a step are not recorded, only
    the note of the one waiting now (`processing_note`).
    """
    probe_status = "done" if film.duration is not None else "waiting"
    entries = [
        TimelineEntry(
            step="probe (reading the source)",
            status=probe_status,
            started_at=film.processing_started_at,
            finished_at=None,
            error="",
        )
    ]
    entries += [
        TimelineEntry(
            step=f"rendition {r.quality}",
            status=r.get_status_display().lower(),
            started_at=r.started_at,
            finished_at=r.finished_at,
            error=r.error,
        )
        for r in _renditions(film)
    ]
    images_done = bool(film.thumbnail.name and film.poster.name)
    entries.append(
        TimelineEntry(
            step="thumbnail and poster",
            status="done" if images_done else "waiting",
            started_at=None,
            finished_at=None,
            error="",
        )
    )
    return entries
