"""Reads of the catalogue shared by the API, the pages and playback."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.fields import BooleanField
from django.db.models.functions import Least

from affea.db import CompiledLookup
from content_app.models import (
    QUALITY_HEIGHTS,
    Category,
    Favorite,
    Film,
    Rendition,
    RenditionStatus,
    WatchProgress,
)

# The GIN index (migration 0002 on PostgreSQL) is built on exactly this expression;
# the query must use the same one for the planner to pick the index.
SEARCH_CONFIG = "english"
SEARCH_FIELDS = ("title", "description", "credits")
_WORD = re.compile(r"\w+", re.UNICODE)


def search_vector() -> SearchVector:
    return SearchVector(*SEARCH_FIELDS, config=SEARCH_CONFIG)


def _ready(prefix: str = "") -> Q:
    """A rendition that can be played: encoded and stored."""
    return Q(**{f"{prefix}status": RenditionStatus.READY}) & ~Q(**{f"{prefix}media_key": ""})


def _shown_to_viewers(prefix: str = "") -> Q:
    """Published and not taken down; viewers also need something playable (`_ready`)."""
    return Q(**{f"{prefix}is_published": True, f"{prefix}taken_down_at__isnull": True})


def _playable() -> Exists:
    return Exists(Rendition.objects.filter(_ready(), film=OuterRef("pk")))


def sees_every_film(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def films_visible_to(user: Any) -> QuerySet[Film]:
    """The films `user` may see: staff see all; others see published, not taken down, playable."""
    films = Film.objects.all()
    if sees_every_film(user):
        return films
    return films.filter(_playable(), _shown_to_viewers())


def with_card_data(films: QuerySet[Film], user: Any) -> QuerySet[Film]:
    """Film instances with what pages show, in a constant number of queries whatever the count."""
    films = (
        _with_favorite(films, user)
        .select_related("category")
        .prefetch_related(
            Prefetch(
                "renditions",
                queryset=Rendition.objects.only(
                    "id", "film_id", "quality", "status", "media_key", "width", "height", "bitrate"
                ),
            )
        )
    )
    return films


def _with_favorite(films: QuerySet[Film], user: Any) -> QuerySet[Film]:
    if user is not None and user.is_authenticated:
        return films.annotate(
            is_favorite=Exists(Favorite.objects.filter(user=user, film=OuterRef("pk")))
        )
    return films.annotate(is_favorite=Value(False, output_field=BooleanField()))


# What a film item of the API needs, read as plain rows: building model instances and
# running a ModelSerializer over them cost more than the queries themselves.
ITEM_FIELDS = (
    "id",
    "slug",
    "created_at",
    "title",
    "description",
    "duration",
    "thumbnail",
    "poster",
    "processing_state",
    "processing_error",
    "year",
    "director",
    "credits",
    "published_at",
    "is_featured",
)


def film_item_rows(
    films: QuerySet[Film], *, user: Any, extra: tuple[str, ...] = ()
) -> QuerySet[Any]:
    return _with_favorite(films, user).values(
        *ITEM_FIELDS, *extra, "is_favorite", category_name=F("category__name")
    )


def attach_converted_files(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each row's {quality: playable now} in one query for all rows, lowest first."""
    offered: dict[int, dict[str, bool]] = {row["id"]: {} for row in rows}
    if offered:
        renditions = Rendition.objects.filter(film_id__in=offered).values_list(
            "film_id", "quality", "status", "media_key"
        )
        for film_id, quality, status, media_key in renditions:
            offered[film_id][quality] = status == RenditionStatus.READY and bool(media_key)
    for row in rows:
        found = offered[row["id"]]
        row["converted_files"] = {
            q: found[q] for q in sorted(found, key=lambda q: QUALITY_HEIGHTS.get(q, 0))
        }
    return rows


def _ready_renditions(film_id: int) -> QuerySet[Rendition]:
    return Rendition.objects.filter(_ready(), film_id=film_id)


def _shown_ready_renditions(film_id: int) -> QuerySet[Rendition]:
    return _ready_renditions(film_id).filter(_shown_to_viewers("film__"))


_PLAYBACK_COLUMNS = ("quality", "media_key")

# video-url is the hottest endpoint, so its queries are compiled once (affea.db). A
# film's ready renditions are exactly what makes it playable, so `films_visible_to`'s
# rule reduces to the film's own conditions here, joined instead of nested (PostgreSQL
# plans the join in half the time).
_READY_RENDITIONS = {
    "staff": CompiledLookup(
        lambda film_id: _ready_renditions(film_id).values_list(*_PLAYBACK_COLUMNS)
    ),
    "viewer": CompiledLookup(
        lambda film_id: _shown_ready_renditions(film_id).values_list(*_PLAYBACK_COLUMNS)
    ),
}
# The same viewer query with the account of a JWT that has not been looked up yet: its
# password hash (None when the account is gone or inactive) rides on every row.
_VIEWER_RENDITIONS_WITH_ACCOUNT = CompiledLookup(
    lambda film_id, user_id: (
        _shown_ready_renditions(film_id)
        .annotate(
            account_password=Subquery(
                get_user_model().objects.filter(pk=user_id, is_active=True).values("password")
            )
        )
        .values_list(*_PLAYBACK_COLUMNS, "account_password")
    ),
    ids=2,
)


def playable_renditions(*, user: Any, film_id: int) -> dict[str, str]:
    """{quality: media key} of the ready renditions of a film `user` may see, in one query."""
    lookup = _READY_RENDITIONS["staff" if sees_every_film(user) else "viewer"]
    return dict(lookup.rows(film_id))


def viewer_renditions_with_account(
    *, film_id: int, user_id: int
) -> tuple[dict[str, str], str | None]:
    """A viewer's `playable_renditions` and the password hash of account `user_id`, in one query.

    The hash is None when the account is inactive or gone; ({}, None) when the film shows
    viewers nothing, whatever the account.
    """
    rows = _VIEWER_RENDITIONS_WITH_ACCOUNT.rows(film_id, user_id)
    if not rows:
        return {}, None
    return {quality: key for quality, key, _ in rows}, rows[0][2]


def catalogue_fingerprint() -> str | None:
    """A value that changes whenever a committed change touches films, renditions or categories.

    Every insert, update (through the ORM, `QuerySet.update()` or raw SQL) or delete gives a
    row a new version whose `xmin` is its transaction id, so the row count and the sum of
    `xmin` change; reading committed rows only, it never runs ahead of the data. None on
    databases other than PostgreSQL, where responses are simply not cached.
    """
    if connection.vendor != "postgresql":
        return None
    parts = [
        # Table names come from the models, never from input.
        f"(SELECT count(*)::text || '.' || coalesce(sum(xmin::text::bigint), 0)::text FROM {table})"  # noqa: S608
        for table in (Film._meta.db_table, Rendition._meta.db_table, Category._meta.db_table)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " || ':' || ".join(parts))
        row = cursor.fetchone()
    return str(row[0]) if row else None


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
    if category.isdigit():
        match |= Q(category_id=int(category))
    return films.filter(match)


def film_list(
    *, user: Any, category: str | None = None, search: str | None = None
) -> QuerySet[Film]:
    films = films_visible_to(user)
    if category:
        films = film_filter_category(films, category)
    if search:
        films = film_search(films, search)
    return films


def film_get(*, user: Any, pk: int) -> Film | None:
    return with_card_data(films_visible_to(user), user).filter(pk=pk).first()


def film_get_by_slug(*, user: Any, slug: str) -> Film | None:
    return with_card_data(films_visible_to(user), user).filter(slug=slug).first()


def favorite_films(*, user: Any) -> QuerySet[Film]:
    """The user's favourites that they may still see, most recently added first."""
    mine = Favorite.objects.filter(user=user, film=OuterRef("pk"))
    films = (
        films_visible_to(user)
        .annotate(favorited_at=Subquery(mine.values("created_at")[:1]))
        .filter(favorited_at__isnull=False)
    )
    return films.order_by("-favorited_at")


# Read on every signed-in catalogue request (favourites laid over the cached list).
_FAVORITE_IDS = CompiledLookup(
    lambda user_id: (
        Favorite.objects.filter(user_id=user_id).order_by("created_at", "pk").values_list("film_id")
    )
)


def favorite_ids(*, user: Any) -> list[int]:
    """Ids of the films `user` marked as favourite, oldest first."""
    return [film_id for (film_id,) in _FAVORITE_IDS.rows(user.pk)]


def continue_watching(*, user: Any) -> QuerySet[Film]:
    """Films the user started and did not finish, most recently watched first."""
    progress = WatchProgress.objects.filter(user=user, film=OuterRef("pk"))
    # Finished: less than 5% (and at most 30 s) left; films of unknown length never finish.
    finished = Q(duration__isnull=False) & Q(
        position__gte=F("duration") - Least(F("duration") * 0.05, Value(30.0))
    )
    films = (
        films_visible_to(user)
        .annotate(
            position=Subquery(progress.values("position")[:1]),
            watched_at=Subquery(progress.values("updated_at")[:1]),
        )
        .filter(position__gt=0)
        .exclude(finished)
    )
    return films.order_by("-watched_at")


def categories() -> QuerySet[Category]:
    return Category.objects.all()
