"""Server-rendered viewer pages: home, categories, search, film, watchlist, continue watching."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from content_app import catalogue_cache, selectors, seo, services
from content_app.models import QUALITY_HEIGHTS, Category, Film, ProcessingState
from content_app.playback import image_url
from content_app.subtitles import subtitle_tracks
from users_app.models import User

PAGE_SIZE = 24
ROW_SIZE = 12


def _signed_in(request: HttpRequest) -> User:
    # Only called behind login_required.
    assert isinstance(request.user, User)
    return request.user


def _with_images(films: Iterable[Film], request: HttpRequest) -> list[Film]:
    """Give each film signed image URLs for <img src> (the bucket is private)."""
    films = list(films)
    for film in films:
        thumb = film.thumbnail.name or film.poster.name
        poster = film.poster.name or film.thumbnail.name
        film.image_url = image_url(thumb, request=request) if thumb else ""  # type: ignore[attr-defined]
        film.poster_url = image_url(poster, request=request) if poster else ""  # type: ignore[attr-defined]
    return films


def _private_catalogue_login(request: HttpRequest) -> HttpResponse | None:
    if settings.CATALOGUE_PRIVATE and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _rows_by_category(films: QuerySet[Film]) -> dict[int, list[Film]]:
    """The newest ROW_SIZE films of every category, in one query whatever the catalogue size."""
    rank = Window(RowNumber(), partition_by=F("category_id"), order_by=F("published_at").desc())
    ranked = films.filter(category__isnull=False).annotate(rank=rank).filter(rank__lte=ROW_SIZE)
    rows: dict[int, list[Film]] = {}
    for film in ranked:
        rows.setdefault(film.category_id or 0, []).append(film)
    return rows


Shelves = tuple[list[Film], list[Film], list[tuple[Category, list[Film]]]]


def _home_shelves(request: HttpRequest, user: selectors.Viewer | None = None) -> Shelves:
    """The featured film, the new arrivals and a row per category, with signed images."""
    viewer = request.user if user is None else user
    visible = selectors.with_card_data(selectors.films_visible_to(viewer), viewer)
    arrivals = _with_images(visible.order_by("-published_at", "-created_at")[:ROW_SIZE], request)
    featured = _with_images(visible.filter(is_featured=True)[:1], request) or arrivals[:1]
    by_category = _rows_by_category(visible)
    rows = [
        (category, _with_images(by_category[category.pk], request))
        for category in selectors.categories()
        if category.pk in by_category
    ]
    return featured, arrivals, rows


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.GET.get("q") or request.GET.get("category"):
        return search(request)  # the catalogue's former query URLs keep working
    if (login := _private_catalogue_login(request)) is not None:
        return login
    if selectors.sees_every_film(request.user):
        shelves = _home_shelves(request)
    else:
        # Every viewer sees the same shelves: shared by all web processes until the
        # catalogue changes (signing their images is most of the page's work).
        shelves = catalogue_cache.cached(
            "home",
            (request.scheme, request.get_host()),
            lambda: _home_shelves(request, AnonymousUser()),
            timeout=max(1, settings.AWS_QUERYSTRING_EXPIRE // 5),
        )
    featured, arrivals, rows = shelves
    watching: list[Film] = []
    if request.user.is_authenticated:
        started = selectors.continue_watching(user=_signed_in(request))[:ROW_SIZE]
        watching = _with_images(started, request)
    return render(
        request,
        "content_app/home.html",
        {
            "featured": featured[0] if featured else None,
            "new_arrivals": arrivals,
            "rows": rows,
            "continue_watching": watching,
            "seo": seo.site_meta(request, description=seo.SITE_DESCRIPTION),
        },
    )


def _page(request: HttpRequest, films: QuerySet[Film]) -> Page[Film]:
    return Paginator(films, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    if (login := _private_catalogue_login(request)) is not None:
        return login
    text = request.GET.get("q", "").replace("\x00", "")[:200]
    category = request.GET.get("category", "").replace("\x00", "")[:100]
    page = _page(request, selectors.film_list(user=request.user, category=category, search=text))
    return render(
        request,
        "content_app/search.html",
        {
            "page": page,
            "films": _with_images(page.object_list, request),
            "search": text,
            "category": category,
            "categories": selectors.categories(),
            "query": _query_without_page(request),
            "seo": seo.site_meta(
                request, title=f"Search: {text}" if text else "Search", noindex=True
            ),
        },
    )


@require_GET
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    if (login := _private_catalogue_login(request)) is not None:
        return login
    category = get_object_or_404(Category, slug=slug)
    films = selectors.with_card_data(
        selectors.films_visible_to(request.user).filter(category=category), request.user
    )
    page = _page(request, films)
    description = f"{category.name}: independent short films to watch on Affea."
    return render(
        request,
        "content_app/category.html",
        {
            "category": category,
            "page": page,
            "films": _with_images(page.object_list, request),
            "query": _query_without_page(request),
            "seo": seo.site_meta(request, title=category.name, description=description),
        },
    )


def start_at(request: HttpRequest, saved: float = 0.0) -> float:
    """`?t=` (seconds) wins over where the viewer stopped (`saved`); nonsense is ignored."""
    try:
        asked = float(request.GET.get("t", ""))
    except ValueError:
        return saved
    return asked if 0 <= asked < 10**7 else saved


def _visible_film(request: HttpRequest, slug: str) -> Film:
    film = selectors.film_get_by_slug(user=request.user, slug=slug)
    if film is None:
        raise Http404("No such film.")
    return film


@require_GET
def film_detail(request: HttpRequest, slug: str) -> HttpResponse:
    if (login := _private_catalogue_login(request)) is not None:
        return login
    film = _visible_film(request, slug)
    _with_images([film], request)
    ready = [r for r in film.renditions.all() if r.is_playable]
    qualities = sorted((r.quality for r in ready), key=QUALITY_HEIGHTS.__getitem__)
    can_play = bool(ready) and (request.user.is_authenticated or film.public_playback)
    position = selectors.watch_position(user=request.user, film=film)
    return render(
        request,
        "content_app/film_detail.html",
        {
            "film": film,
            "qualities": qualities,
            "can_play": can_play,
            "on_its_way": not ready,
            "more_coming": bool(ready) and film.processing_state == ProcessingState.PROCESSING,
            "start": start_at(request, position),
            "player": player_context(film, request) if can_play else None,
            "embed_url": seo.absolute(reverse("content:embed", kwargs={"slug": film.slug})),
            "seo": seo.film_meta(request, film),
        },
    )


def player_context(film: Film, request: HttpRequest) -> dict[str, object]:
    """What templates/content_app/_player.html needs; progress is saved for signed-in viewers."""
    tracks = subtitle_tracks(film, request=request)
    return {
        "master": reverse("content_api:hls-master", kwargs={"pk": film.pk}),
        "video": reverse("content_api:video-url", kwargs={"pk": film.pk}),
        "progress": (
            reverse("content_api:progress", kwargs={"pk": film.pk})
            if request.user.is_authenticated
            else ""
        ),
        "tracks_json": [{"language": t.language, "label": t.label, "url": t.url} for t in tracks],
    }


@require_GET
def film_poster(request: HttpRequest, slug: str) -> HttpResponse:
    """A stable address of a film's poster for crawlers and unfurlers: a fresh signed URL.

    Shared caches may keep the redirect a minute only when anyone may see it: what a
    signed-in viewer is sent (staff see unpublished films, members a private catalogue)
    stays in their own browser, whatever a CDN makes of `Vary: Cookie`.
    """
    if (login := _private_catalogue_login(request)) is not None:
        patch_cache_control(login, private=True, no_cache=True)
        return login
    film = _visible_film(request, slug)
    name = film.poster.name or film.thumbnail.name
    if not name:
        raise Http404("This film has no poster yet.")
    response = HttpResponseRedirect(image_url(name, request=request))
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, max_age=60)
    else:
        patch_cache_control(response, public=True, max_age=60)
    return response


@require_POST
def favorite_toggle(request: HttpRequest, slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("content:film-detail", kwargs={"slug": slug}))
    film = _visible_film(request, slug)
    services.favorite_toggle(user=request.user, film=film)
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("content:film-detail", slug=slug)


@login_required
@require_GET
def watchlist(request: HttpRequest) -> HttpResponse:
    films = selectors.favorite_films(user=_signed_in(request))
    return render(
        request,
        "content_app/watchlist.html",
        {
            "films": _with_images(films, request),
            "seo": seo.site_meta(request, title="Watchlist", noindex=True),
        },
    )


@login_required
@require_GET
def continue_watching(request: HttpRequest) -> HttpResponse:
    films = selectors.continue_watching(user=_signed_in(request))[: PAGE_SIZE * 2]
    return render(
        request,
        "content_app/continue_watching.html",
        {
            "films": _with_images(films, request),
            "seo": seo.site_meta(request, title="Continue watching", noindex=True),
        },
    )
