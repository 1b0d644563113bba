"""Reads of the catalogue shared by the API, the pages and playback.

`films_visible_to` is the one rule of what a viewer may see; every other selector here,
and every view, page and playback path, starts from it.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.fields import BooleanField
from django.db.models.functions import Least
from django.utils import timezone

from affea.numbers import parse_id
from content_app.models import (
    Category,
    Favorite,
    Film,
    Rendition,
    RenditionStatus,
    Subtitle,
    WatchProgress,
)
from users_app.models import User

Viewer = User | AnonymousUser

# The GIN index (migration 0002 on PostgreSQL) is built on exactly this expression;
# the query must use the same one for the planner to pick the index.
SEARCH_CONFIG = "english"
SEARCH_FIELDS = ("title", "description", "credits")
_WORD = re.compile(r"\w+", re.UNICODE)


def search_vector() -> SearchVector:
    return SearchVector(*SEARCH_FIELDS, config=SEARCH_CONFIG)


# --- The visibility rule ---------------------------------------------------------------


def _playable() -> Q:
    """A rendition that can be played: encoded, stored, of the version on air (a replaced
    source stays on air until its successor is ready)."""
    return _live() & _encoded()


def _encoded() -> Q:
    """A rendition encoded and stored, of whichever version."""
    return Q(status=RenditionStatus.READY) & ~Q(media_key="")


def _live() -> Q:
    """A rendition of its film's version on air (`Film.live_version`)."""
    return Q(source_version=F("film__live_version"))


def _shown_to_viewers() -> Q:
    """Every condition a film must meet for a viewer (not staff) to see it, in one place."""
    now = timezone.now()
    # Inside the licence window too: the licence job unpublishes at its end, but only when
    # it next runs.
    return Q(
        Exists(Rendition.objects.filter(_playable(), film=OuterRef("pk"))),
        Q(licence_starts_at__isnull=True) | Q(licence_starts_at__lte=now),
        Q(licence_ends_at__isnull=True) | Q(licence_ends_at__gt=now),
        is_published=True,
        taken_down_at__isnull=True,
    )


def sees_every_film(user: Viewer) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def films_visible_to(user: Viewer) -> QuerySet[Film]:
    """The films `user` may see: staff see all; others see published, not taken down, playable."""
    films = Film.objects.all()
    if sees_every_film(user):
        return films
    return films.filter(_shown_to_viewers())


def films_known_to_public() -> QuerySet[Film]:
    """The films anyone can see, and the ones taken down that were ever published (the
    public saw them; a legal notice may still name them, even once unpublished, as the
    licence job does at the end of their window). Films never published stay unknown."""
    return Film.objects.filter(
        _shown_to_viewers() | Q(published_at__isnull=False, taken_down_at__isnull=False)
    )


def films_playable_by(user: Viewer) -> QuerySet[Film]:
    """The films `user` may play: those they may see, and for anonymous viewers only the
    films with public playback (embeddable, no sign-in)."""
    films = films_visible_to(user)
    return films if user.is_authenticated else films.filter(public_playback=True)


def playback_viewer(user_id: int) -> Viewer | None:
    """The viewer a playlist token was issued to (0: anonymous), or None if no longer active."""
    if user_id == 0:
        return AnonymousUser()
    return User.objects.filter(pk=user_id, is_active=True).first()


def playable_renditions(*, user: Viewer, film_id: int) -> QuerySet[Rendition]:
    """The ready renditions of film `film_id` if `user` may play it (none otherwise)."""
    return Rendition.objects.filter(
        _playable(), film__in=films_playable_by(user).filter(pk=film_id).values("pk")
    )


def variant_rendition(
    *, user: Viewer, film_id: int, quality: str, version: int | None
) -> Rendition | None:
    """The rendition an HLS variant link plays: of the `version` its master was made of,
    on air or replaced but kept for players (None: the version on air), if `user` may play
    the film."""
    if version is None:
        rows = playable_renditions(user=user, film_id=film_id)
    else:
        rows = Rendition.objects.filter(
            _encoded() & (_live() | ~Q(retired_at=None)),
            source_version=version,
            film__in=films_playable_by(user).filter(pk=film_id).values("pk"),
        )
    return rows.filter(quality=quality).select_related("film").first()


# --- Films with what lists and pages show ------------------------------------------------


def with_card_data(films: QuerySet[Film], user: Viewer) -> QuerySet[Film]:
    """Film instances with what items and pages show, in a constant number of queries."""
    if user.is_authenticated:
        favorite = Exists(Favorite.objects.filter(user_id=user.pk, film=OuterRef("pk")))
        films = films.annotate(is_favorite=favorite)
    else:
        films = films.annotate(is_favorite=Value(False, output_field=BooleanField()))
    renditions = Rendition.objects.filter(_live()).only(
        "id", "film_id", "quality", "status", "media_key", "source_version", "seconds"
    )
    subtitles = Subtitle.objects.only("id", "film_id", "language", "label", "file")
    return films.select_related("category").prefetch_related(
        Prefetch("renditions", queryset=renditions), Prefetch("subtitles", queryset=subtitles)
    )


def _prefix_tsquery(text: str) -> str | None:
    """Turn free text into a raw tsquery of ANDed words, the last one a prefix (as you type)."""
    words = _WORD.findall(text.lower())[:12]
    if not words:
        return None
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


def film_search(films: QuerySet[Film], text: str) -> QuerySet[Film]:
    text = text.strip()[:200]
    if not text:
        return films
    if settings.IS_POSTGRES:
        raw = _prefix_tsquery(text)
        if raw is None:
            return films.none()
        query = SearchQuery(raw, config=SEARCH_CONFIG, search_type="raw")
        return (
            films.annotate(search=search_vector())
            .filter(search=query)
            .annotate(rank=SearchRank(search_vector(), query))
            .order_by("-rank", "-published_at", "-created_at")
        )
    matches = Q()
    for word in _WORD.findall(text)[:12]:
        matches &= (
            Q(title__icontains=word) | Q(description__icontains=word) | Q(credits__icontains=word)
        )
    return films.filter(matches)


def film_filter_category(films: QuerySet[Film], category: str) -> QuerySet[Film]:
    """Filter by category slug, name (any case) or id."""
    category = category.strip()
    match = Q(category__slug=category) | Q(category__name__iexact=category)
    if (category_id := parse_id(category)) is not None:
        match |= Q(category_id=category_id)
    return films.filter(match)


def film_list(
    *, user: Viewer, category: str | None = None, search: str | None = None
) -> QuerySet[Film]:
    films = films_visible_to(user)
    if category:
        films = film_filter_category(films, category)
    if search:
        films = film_search(films, search)
    return with_card_data(films, user)


def film_get(*, user: Viewer, pk: int) -> Film | None:
    return with_card_data(films_visible_to(user), user).filter(pk=pk).first()


def film_get_by_slug(*, user: Viewer, slug: str) -> Film | None:
    return with_card_data(films_visible_to(user), user).filter(slug=slug).first()


def favorite_films(*, user: User) -> QuerySet[Film]:
    """The user's favourites that they may still see, most recently added first."""
    # Joined from the user's own rows (one per film): the database starts from their few
    # favourites instead of testing every film of the catalogue for one.
    films = (
        films_visible_to(user)
        .filter(favorites__user=user)
        .annotate(favorited_at=F("favorites__created_at"))
        .order_by("-favorited_at", "-pk")
    )
    return with_card_data(films, user)


def favorite_ids(*, user: User) -> list[int]:
    """Ids of the films `user` marked as favourite, oldest first."""
    mine = Favorite.objects.filter(user=user).order_by("created_at", "pk")
    return list(mine.values_list("film_id", flat=True))


def continue_watching(*, user: User) -> QuerySet[Film]:
    """Films the user started and did not finish, most recently watched first."""
    # Finished: less than 5% (and at most 30 s) left; films of unknown length never finish.
    finished = Q(duration__isnull=False) & Q(
        position__gte=F("duration") - Least(F("duration") * 0.05, Value(30.0))
    )
    # Joined from the user's own rows, as favorite_films is.
    films = (
        films_visible_to(user)
        .filter(watch_progress__user=user, watch_progress__position__gt=0)
        .annotate(
            position=F("watch_progress__position"), watched_at=F("watch_progress__updated_at")
        )
        .exclude(finished)
        .order_by("-watched_at", "-pk")
    )
    return with_card_data(films, user)


def watch_position(*, user: Viewer, film: Film) -> float:
    """Where `user` stopped watching `film` (0 for anonymous viewers and unwatched films)."""
    if not user.is_authenticated:
        return 0.0
    found = WatchProgress.objects.filter(user_id=user.pk, film=film).values_list(
        "position", flat=True
    )
    return next(iter(found), 0.0)


def categories() -> QuerySet[Category]:
    return Category.objects.all()
