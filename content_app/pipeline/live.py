"""Which source version is on air: a replaced source stays on air until its successor is ready.

Viewers are shown the renditions of `Film.live_version` only (content_app.selectors). A
version goes on air when it is complete, or at its first playable rendition when nothing
else is on air (a new film is playable at its lowest rung). The switch is one transaction;
the renditions of the version replaced are retired with it (`Rendition.retired_at`) and
deleted, rows and objects, once players that were given playlists and URLs to them can no
longer use them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from content_app.catalogue_cache import catalogue_changed
from content_app.media import objects
from content_app.models import Film, Rendition, RenditionStatus
from content_app.pipeline.queue import enqueue_cleanup
from content_app.pipeline.storage import rendition_keys
from content_app.playback import url_ttl_for


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
    # The version replaced is kept for players holding its playlists and URLs (an HLS
    # master given out before now names its variants); `renditions_retired_delete` takes
    # it once they have expired.
    others = Rendition.objects.filter(film_id=film_id, retired_at=None)
    others.exclude(source_version=version).update(retired_at=timezone.now())
    Film.objects.filter(pk=film_id).update(live_version=version)
    catalogue_changed()
    _show_staged_images(film, version)
    return True


def renditions_retired_delete(*, now: datetime | None = None) -> list[str]:
    """Delete the replaced renditions (objects, then rows) that no URL given out can still
    reach; one line each. Run by the reconciler."""
    now = now or timezone.now()
    retired = Rendition.objects.exclude(retired_at=None).select_related("film")
    columns = ("media_key", "playlist_key", "seconds", "retired_at", "film_id", "film__duration")
    # From the film too: its duration may be the new source's, which URLs were timed by.
    gone = [
        r
        for r in retired.only(*columns)
        if r.retired_at
        and r.retired_at + old_renditions_grace(max(r.seconds, r.film.duration or 0.0)) <= now
    ]
    if not gone:
        return []
    objects.delete(rendition_keys(gone))
    Rendition.objects.filter(pk__in=[r.pk for r in gone]).delete()
    return [f"film {r.film_id}: replaced rendition {r.pk} deleted" for r in gone]


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


def staged_images(images_next: dict[str, object]) -> dict[str, str]:
    """The images (field -> key) of a `Film.images_next`, without the version they are of."""
    return {name: str(key) for name, key in images_next.items() if name != "version"}


def _show_staged_images(film: Film, version: int) -> None:
    """Show the images generated for `version` while another was on air."""
    if not film.images_next:
        return
    staged = staged_images(film.images_next)
    shown = staged if film.images_next.get("version") == version else {}
    # Decided again here: an image staff uploaded since it was generated wins.
    shown = {name: key for name, key in shown.items() if wants_generated(film, name)}
    film_show_generated_images(film, shown)
    Film.objects.filter(pk=film.pk).update(images_next={})
    enqueue_cleanup([key for key in staged.values() if key not in shown.values()])


def film_drop_unaired_images(*, film: Film) -> list[str]:
    """Forget images generated for a version that never went on air; return their keys."""
    staged = list(staged_images(film.images_next).values())
    if film.images_next:
        Film.objects.filter(pk=film.pk).update(images_next={})
        film.images_next = {}
    return staged


def film_drop_unaired(*, film: Film) -> list[str]:
    """Delete the renditions of versions never on air; return their keys."""
    stale = Rendition.objects.filter(film=film, retired_at=None).exclude(
        source_version=film.live_version
    )
    doomed = rendition_keys(list(stale))
    stale.delete()
    return doomed
