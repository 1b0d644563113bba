"""Objects of a film in storage: where they live and how they are deleted."""

from __future__ import annotations

from content_app.media import objects
from content_app.models import Film, Rendition
from content_app.pipeline.queue import enqueue_cleanup


def film_prefix(film: Film) -> str:
    return f"films/{film.uuid}/"


def rendition_keys(renditions: list[Rendition]) -> list[str]:
    return [key for r in renditions for key in (r.media_key, r.playlist_key) if key]


def storage_delete(*, keys: list[str], prefixes: list[str]) -> None:
    """Delete objects by key and everything under each prefix."""
    objects.delete([*keys, *(key for prefix in prefixes for key in objects.list_keys(prefix))])


def film_images_overridden(*, film: Film, previous: dict[str, str]) -> None:
    """Staff replaced or cleared images: keep the pipeline off them, drop the old objects."""
    flags = {f"{name}_generated": False for name in previous}
    Film.objects.filter(pk=film.pk).update(**flags)
    for name, value in flags.items():
        setattr(film, name, value)
    current = {name: getattr(film, name).name for name in previous}
    enqueue_cleanup([old for name, old in previous.items() if old and old != current[name]])
