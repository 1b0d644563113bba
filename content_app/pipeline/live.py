"""Which source version is on air: a replaced source stays on air until its successor is ready.

Viewers are shown the renditions of `Film.live_version` only (content_app.selectors). A
version goes on air when it is complete, or at its first playable rendition when nothing
else is on air (a new film is playable at its lowest rung). The switch is one transaction;
the renditions of the other versions go with it, their objects once players that were
given URLs to them can no longer use those URLs.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from content_app.catalogue_cache import catalogue_changed
from content_app.models import Film, Rendition, RenditionStatus
from content_app.pipeline.queue import enqueue_cleanup
from content_app.pipeline.storage import rendition_keys
from content_app.playback import longest_seconds, url_ttl_for


def _playable(film_id: int, version: int) -> bool:
    ready = Rendition.objects.filter(
        film_id=film_id, source_version=version, status=RenditionStatus.READY
    )
    return ready.exclude(media_key="").exists()


def old_renditions_grace(duration: float = 0.0) -> timedelta:
    """How long a replaced version's objects outlive it: the life of the longest URL given
    out to them (an HLS playlist's, for a film of `duration`), and a margin."""
    return timedelta(seconds=url_ttl_for(duration) + 60)


@transaction.atomic
def film_go_live_if_due(*, film_id: int, version: int, complete: bool) -> bool:
    """Put `version` on air if it is `complete`, or playable with nothing else on air.

    Return True if it went on air now.
    """
    film = Film.objects.select_for_update().filter(pk=film_id, source_version=version).first()
    if film is None or film.live_version == version:
        return False
    if not complete and (_playable(film_id, film.live_version) or not _playable(film_id, version)):
        return False
    others = Rendition.objects.filter(film_id=film_id).exclude(source_version=version)
    replaced = list(others)
    doomed = rendition_keys(replaced)
    others.delete()
    Film.objects.filter(pk=film_id).update(live_version=version)
    catalogue_changed()
    # From the renditions too: the film's duration may already be the new source's.
    longest = max(longest_seconds(replaced), film.duration or 0.0)
    enqueue_cleanup(doomed, delay=old_renditions_grace(longest))
    _show_staged_images(film, version)
    return True


def wants_generated(film: Film, name: str) -> bool:
    """Whether the pipeline makes this image: not when staff uploaded one (shown or pending)."""
    if name in film.images_pending:
        return False
    return not getattr(film, name).name or bool(getattr(film, f"{name}_generated"))


def film_show_generated_images(film: Film, images: dict[str, str]) -> None:
    """Show the generated `images` (field -> key) on the locked `film`; the generated ones
    they replace go once the URLs given out to them have expired."""
    if not images:
        return
    fields: dict[str, object] = {}
    replaced: list[str] = []
    for name, key in images.items():
        fields.update({name: key, f"{name}_generated": True})
        if getattr(film, f"{name}_generated"):
            replaced.append(getattr(film, name).name or "")
    Film.objects.filter(pk=film.pk).update(**fields)
    catalogue_changed()
    enqueue_cleanup(replaced, delay=old_renditions_grace())


def _show_staged_images(film: Film, version: int) -> None:
    """Show the images generated for `version` while another was on air."""
    staged = {name: key for name, key in film.images_next.items() if name != "version"}
    if not film.images_next:
        return
    shown = staged if film.images_next.get("version") == version else {}
    # Decided again here: an image staff uploaded since it was generated wins.
    shown = {name: key for name, key in shown.items() if wants_generated(film, name)}
    film_show_generated_images(film, shown)
    Film.objects.filter(pk=film.pk).update(images_next={})
    enqueue_cleanup([key for key in staged.values() if key not in shown.values()])


def film_drop_unaired_images(*, film: Film) -> list[str]:
    """Forget images generated for a version that never went on air; return their keys."""
    staged = [key for name, key in film.images_next.items() if name != "version"]
    if film.images_next:
        Film.objects.filter(pk=film.pk).update(images_next={})
        film.images_next = {}
    return staged


def film_drop_unaired(*, film: Film) -> list[str]:
    """Delete the renditions of every version but the one on air; return their keys."""
    stale = Rendition.objects.filter(film=film).exclude(source_version=film.live_version)
    doomed = rendition_keys(list(stale))
    stale.delete()
    return doomed
