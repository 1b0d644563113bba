"""Every write to the catalogue: typed, keyword-only services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format

from affea.errors import DomainError
from content_app import selectors
from content_app.catalogue_cache import catalogue_changed
from content_app.models import Favorite, Film, WatchProgress
from content_app.pipeline import film_processing_restart

# --- Viewers: favourites and watch progress -------------------------------------------


def favorite_toggle(*, user: Any, film: Film) -> list[int]:
    """Add `film` to the user's favourites or remove it; return their favourite film ids."""
    deleted, _ = Favorite.objects.filter(user=user, film=film).delete()
    if not deleted:
        try:
            # A savepoint, so a double click racing this one leaves the outer transaction usable.
            with transaction.atomic():
                Favorite.objects.create(user=user, film=film)
        except IntegrityError:
            pass  # the concurrent request added it: the end state is the same
    return selectors.favorite_ids(user=user)


def watch_progress_record(*, user: Any, film: Film, position: float) -> WatchProgress:
    """Remember where the user stopped watching `film` (seconds from the start)."""
    if position < 0:
        raise DomainError("The position cannot be negative.")
    if film.duration is not None and position > film.duration + 1:
        # One second of slack: players report the end a little past the probed duration.
        raise DomainError("The position is past the end of the film.")
    progress, _ = WatchProgress.objects.update_or_create(
        user=user, film=film, defaults={"position": position}
    )
    return progress


# --- Staff: publishing and processing (the pipeline itself is in content_app.pipeline) ---


def _day(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def film_publish(*, film: Film) -> bool:
    """Publish `film` (keeping its first publish time); return whether anything changed."""
    if film.taken_down_at is not None:
        raise DomainError(f"“{film.title}” is taken down; it cannot be published.")
    now = timezone.now()
    if film.licence_ends_at is not None and film.licence_ends_at <= now:
        raise DomainError(
            f"The licence of “{film.title}” ended on {_day(film.licence_ends_at)}: extend it "
            "before publishing."
        )
    if film.licence_starts_at is not None and film.licence_starts_at > now:
        raise DomainError(
            f"The licence of “{film.title}” starts on {_day(film.licence_starts_at)}: it is "
            "published then."
        )
    changed = Film.objects.filter(pk=film.pk, is_published=False).update(
        is_published=True, published_at=Coalesce(F("published_at"), Value(now))
    )
    film.refresh_from_db(fields=["is_published", "published_at"])
    if changed:
        catalogue_changed()
    return bool(changed)


def film_unpublish(*, film: Film) -> bool:
    """Withdraw `film` from viewers; return whether anything changed."""
    changed = Film.objects.filter(pk=film.pk, is_published=True).update(is_published=False)
    film.is_published = False
    if changed:
        catalogue_changed()
    return bool(changed)


def film_reprocess(*, film: Film) -> int:
    """Make every rendition and generated image of `film` again; return the new source version."""
    if not film.source.name:
        raise DomainError(f"“{film.title}” has no source file to process.")
    return film_processing_restart(film=film)
