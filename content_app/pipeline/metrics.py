"""Which pipeline step an RQ job runs, for its log lines and step metrics (affea.jobs)."""

from __future__ import annotations

from collections.abc import Sequence

from content_app.pipeline.queue import STEP_IMAGES, STEP_LADDER, STEP_PROBE

STEP_SOURCE = "source"
_STEP_OF_TASK = {
    "content_app.tasks.process_saved_source": STEP_SOURCE,
    "content_app.tasks.probe_film": STEP_PROBE,
    "content_app.tasks.make_images": STEP_IMAGES,
    "content_app.tasks.make_ladder": STEP_LADDER,
}
_RENDITION_TASK = "content_app.tasks.make_rendition"


def step_of(func_name: str, args: Sequence[object]) -> tuple[int, str] | None:
    """Return (film id, step) of a pipeline task called with `args`, None for other tasks."""
    if not args or not isinstance(args[0], int):
        return None
    if func_name == _RENDITION_TASK and len(args) >= 3:
        return args[0], str(args[2])
    step = _STEP_OF_TASK.get(func_name)
    return (args[0], step) if step else None


def film_failed(film_id: int) -> bool:
    """Whether the film ended up in `error` (a step that records a media failure returns)."""
    from content_app.models import Film, ProcessingState

    return Film.objects.filter(pk=film_id, processing_state=ProcessingState.ERROR).exists()
