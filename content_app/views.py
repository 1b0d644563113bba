"""Server-rendered catalogue pages: browse, search, watch, favourites, continue watching."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from content_app import selectors, services
from content_app.models import QUALITY_HEIGHTS, Film, RenditionStatus
from content_app.playback import image_url
from users_app.models import User

PAGE_SIZE = 24


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


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    if settings.CATALOGUE_PRIVATE and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    search = request.GET.get("q", "").replace("\x00", "")[:200]
    category = request.GET.get("category", "").replace("\x00", "")[:100]
    films = selectors.film_list(user=request.user, category=category, search=search)
    page = Paginator(films, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "content_app/catalogue.html",
        {
            "page": page,
            "films": _with_images(page.object_list, request),
            "categories": selectors.categories(),
            "search": search,
            "category": category,
        },
    )


@require_GET
def film_detail(request: HttpRequest, slug: str) -> HttpResponse:
    if settings.CATALOGUE_PRIVATE and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    film = selectors.film_get_by_slug(user=request.user, slug=slug)
    if film is None:
        raise Http404("No such film.")
    _with_images([film], request)
    qualities = sorted(
        (r.quality for r in film.renditions.all() if r.status == RenditionStatus.READY),
        key=QUALITY_HEIGHTS.__getitem__,
    )
    position = selectors.watch_position(user=request.user, film=film)
    return render(
        request,
        "content_app/film_detail.html",
        {
            "film": film,
            "qualities": qualities,
            "position": position,
            "master_url": reverse("content_api:hls-master", kwargs={"pk": film.pk}),
            "video_url": reverse("content_api:video-url", kwargs={"pk": film.pk}),
            "progress_url": reverse("content_api:progress", kwargs={"pk": film.pk}),
        },
    )


@require_POST
def favorite_toggle(request: HttpRequest, slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("content:film-detail", kwargs={"slug": slug}))
    film = selectors.film_get_by_slug(user=request.user, slug=slug)
    if film is None:
        raise Http404("No such film.")
    services.favorite_toggle(user=request.user, film=film)
    return redirect("content:film-detail", slug=slug)


@login_required
@require_GET
def favorites(request: HttpRequest) -> HttpResponse:
    films = selectors.favorite_films(user=_signed_in(request))
    return render(request, "content_app/favorites.html", {"films": _with_images(films, request)})


@login_required
@require_GET
def continue_watching(request: HttpRequest) -> HttpResponse:
    films = selectors.continue_watching(user=_signed_in(request))[: PAGE_SIZE * 2]
    return render(
        request, "content_app/continue_watching.html", {"films": _with_images(films, request)}
    )
