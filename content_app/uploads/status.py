"""What staff see of a film's processing: state, percent, step, note, error, and renditions.

Renditions are shown the way viewers meet them: what is on air (the ready renditions of
`Film.live_version`, the only ones viewers get) apart from what is being made (those of the
current source version that are not on air yet). During a reprocess the two are different
source versions; `film_renditions` is the one place that tells them apart, for the status
JSON, the change list and the change page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from content_app.models import Film, ProcessingState, ProcessingStep, Rendition, RenditionStatus
from content_app.pipeline import (
    LOWEST_RUNG,
    STEP_IMAGES,
    STEP_LADDER,
    STEP_PROBE,
    step_done,
    step_label,
)

_STEP_NAMES = {"probe": "reading the source", "images": "making the thumbnail and poster"}
# What the staff views read of a rendition: never its HLS segment list, which is long.
_COLUMNS = (
    "id",
    "film_id",
    "quality",
    "source_version",
    "status",
    "height",
    "size",
    "bitrate",
    "error",
    "started_at",
    "finished_at",
)
_PREFETCHED = "staff_renditions"


def with_staff_renditions(films: QuerySet[Film]) -> QuerySet[Film]:
    """Films with every version's renditions loaded at once, for `film_renditions`; not
    those replaced but kept for players' links (pipeline.live): neither on air nor being
    made."""
    return films.prefetch_related(
        Prefetch("renditions", queryset=_staff_rows(), to_attr=_PREFETCHED)
    )


def _staff_rows() -> QuerySet[Rendition]:
    return Rendition.objects.filter(retired_at=None).only(*_COLUMNS).order_by("height")


def films_with_renditions(ids: list[int]) -> QuerySet[Film]:
    return with_staff_renditions(Film.objects.filter(pk__in=ids))


def _all_renditions(film: Film) -> list[Rendition]:
    rows: list[Rendition] | None = getattr(film, _PREFETCHED, None)
    if rows is None:
        rows = list(_staff_rows().filter(film=film))
        setattr(film, _PREFETCHED, rows)
    return rows


def _renditions(film: Film) -> list[Rendition]:
    """The renditions of the current source version (what processing is making)."""
    return [r for r in _all_renditions(film) if r.source_version == film.source_version]


@dataclass(frozen=True)
class FilmRenditions:
    """A film's renditions as staff need them: on air, and being made."""

    # The ready renditions of the version viewers are shown, lowest first.
    on_air: list[Rendition]
    live_version: int
    # The current source version's renditions that are not on air (every status).
    in_progress: list[Rendition]
    source_version: int
    # The current source version is not the one on air: a new source or a reprocess.
    new_version: bool
    # ... and processing it failed: the version on air stays on air.
    new_version_failed: bool

    @property
    def replacing(self) -> bool:
        """A new version is being made (or failed) while an older one stays on air."""
        return self.new_version and bool(self.on_air)

    @property
    def shows_in_progress(self) -> bool:
        return self.new_version or bool(self.in_progress)

    def in_progress_summary(self) -> str:
        """The new version's renditions in a few words ("120p ready, 360p processing")."""
        if self.new_version_failed:
            return "failed"
        if not self.in_progress:
            return "reading the source"
        return ", ".join(f"{r.quality} {r.get_status_display().lower()}" for r in self.in_progress)

    def as_json(self) -> dict[str, object]:
        return {
            "on_air": {
                "version": self.live_version if self.on_air else None,
                "qualities": [r.quality for r in self.on_air],
            },
            "in_progress": {
                "version": self.source_version,
                "replaces_on_air": self.replacing,
                "failed": self.new_version_failed,
                "renditions": [
                    {"quality": r.quality, "status": r.status, "error": r.error}
                    for r in self.in_progress
                ],
            }
            if self.shows_in_progress
            else None,
        }


def _on_air(film: Film, rendition: Rendition) -> bool:
    # `Rendition.is_playable` also asks for a stored key, which a ready row always has
    # (both are written by one update); the staff views do not load keys.
    live = rendition.source_version == film.live_version
    return live and rendition.status == RenditionStatus.READY


def film_renditions(film: Film) -> FilmRenditions:
    """Split `film`'s renditions into what viewers get now and what is being made."""
    rows = _all_renditions(film)
    on_air = [r for r in rows if _on_air(film, r)]
    shown = {r.pk for r in on_air}
    in_progress = [r for r in rows if r.source_version == film.source_version and r.pk not in shown]
    new_version = film.source_version != film.live_version
    return FilmRenditions(
        on_air=on_air,
        live_version=film.live_version,
        in_progress=in_progress,
        source_version=film.source_version,
        new_version=new_version,
        new_version_failed=new_version and film.processing_state == ProcessingState.ERROR,
    )


def rendition_role(film: Film, rendition: Rendition) -> str:
    """One rendition's place in `film_renditions`, in words, for a row that lists it."""
    version = f"v{rendition.source_version}"
    if _on_air(film, rendition):
        return f"{version} · on air"
    if rendition.source_version == film.source_version:
        return f"{version} · current source, not on air yet"
    # Rungs of the version on air never made: a newer source replaced it first.
    return f"{version} · replaced, never on air"


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


@dataclass(frozen=True)
class ImageNotice:
    """A staff-uploaded image not (yet) shown to viewers, and why."""

    field: str
    refused: bool
    message: str


def film_image_notices(film: Film) -> list[ImageNotice]:
    """Uploads waiting for the worker's re-encoding, and uploads it refused with the reason."""
    notices = [
        ImageNotice(
            field=field,
            refused=False,
            message=f"The new {field} is being re-encoded; viewers see the previous one until "
            "then.",
        )
        for field in sorted(film.images_pending)
    ]
    notices += [
        ImageNotice(
            field=field,
            refused=True,
            message=f"The {field} you uploaded was refused: {reason} The previous {field} is "
            "still shown.",
        )
        for field, reason in sorted(film.images_refused.items())
    ]
    return notices


def film_status(film: Film) -> dict[str, object]:
    """The JSON the admin pages poll."""
    return {
        "id": film.pk,
        "state": film.processing_state,
        "state_label": film.get_processing_state_display(),
        "percent": film.processing_progress,
        "step": current_step(film),
        "note": film.processing_note,
        "error": film.processing_error if film.processing_state == ProcessingState.ERROR else "",
        **film_renditions(film).as_json(),
        "images_pending": sorted(film.images_pending),
        "images_refused": dict(film.images_refused),
    }


@dataclass(frozen=True)
class TimelineEntry:
    step: str
    status: str
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    error: str

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds(), 1)
        return None


def _entry(film: Film, step: str, row: ProcessingStep | None, label: str) -> TimelineEntry:
    if row is None:
        # Not started yet, or done before steps were recorded.
        done = step_done(film.pk, film.source_version, step)
        return TimelineEntry(label, "done" if done else "waiting", 0, None, None, "")
    if row.finished_at is not None:
        status = "failed" if row.error else "done"
    else:
        status = "waiting for a retry" if row.error else "running"
    return TimelineEntry(label, status, row.attempts, row.started_at, row.finished_at, row.error)


def film_timeline(film: Film) -> list[TimelineEntry]:
    """Each step of the current source version: its last attempt's start and end, how many
    attempts it took, and its error or what it waits for (pipeline.timeline records them)."""
    rows = {
        row.step: row
        for row in ProcessingStep.objects.filter(film=film, source_version=film.source_version)
    }
    qualities = [r.quality for r in _renditions(film)]
    steps = [STEP_PROBE, *(q for q in qualities if q == LOWEST_RUNG)]
    higher = [q for q in qualities if q != LOWEST_RUNG]
    labels = {step: step_label(step) for step in steps}
    if higher:
        steps.append(STEP_LADDER)
        labels[STEP_LADDER] = f"{step_label(STEP_LADDER)} ({', '.join(higher)})"
        # Rungs the ladder handed to jobs of their own, when it failed.
        steps += [q for q in higher if q in rows]
        labels.update({q: f"{step_label(q)} on its own" for q in higher})
    steps.append(STEP_IMAGES)
    labels[STEP_IMAGES] = step_label(STEP_IMAGES)
    return [_entry(film, step, rows.get(step), labels[step]) for step in steps]
