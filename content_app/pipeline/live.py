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
    return True


def film_drop_unaired(*, film: Film) -> list[str]:
    """Delete the renditions of every version but the one on air; return their keys."""
    stale = Rendition.objects.filter(film=film).exclude(source_version=film.live_version)
    doomed = rendition_keys(list(stale))
    stale.delete()
    return doomed
