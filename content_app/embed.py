"""Embeds: the framable player page of a public-playback film, and oEmbed to unfurl links."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from affea.numbers import parse_id
from content_app import selectors, seo
from content_app.models import Film
from content_app.playback import image_url
from content_app.views import player_context, start_at

DEFAULT_WIDTH, DEFAULT_HEIGHT = 640, 360
# Only this path may be framed by other sites; the rest of the site keeps X-Frame-Options DENY.
EMBED_CSP = "frame-ancestors *"


def embeddable_film(request: HttpRequest, slug: str) -> Film | None:
    """A film this viewer may see that its owners let anyone play, with what the player needs."""
    films = selectors.films_visible_to(request.user).filter(public_playback=True)
    return selectors.with_card_data(films, request.user).filter(slug=slug).first()


@xframe_options_exempt
@require_GET
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    film = embeddable_film(request, slug)
    if film is None:
        raise Http404("No such embeddable film.")
    name = film.poster.name or film.thumbnail.name
    response = render(
        request,
        "content_app/embed.html",
        {
            "film": film,
            "poster_url": image_url(name, request=request) if name else "",
            "start": start_at(request),
            "player": player_context(film, request),
            "page_url": seo.film_urls(film)["page"],
        },
    )
    response["Content-Security-Policy"] = EMBED_CSP
    return response


def iframe_html(film: Film, *, width: int, height: int) -> str:
    return format_html(
        '<iframe src="{}" width="{}" height="{}" title="{}" frameborder="0" '
        'allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>',
        seo.film_urls(film)["embed"],
        width,
        height,
        film.title,
    )


def _size(request: HttpRequest) -> tuple[int, int]:
    width, height = DEFAULT_WIDTH, DEFAULT_HEIGHT
    for name in ("maxwidth", "maxheight"):
        limit = parse_id(request.GET.get(name, "")) or 0
        if limit > 0:
            scale = min(1.0, limit / (width if name == "maxwidth" else height))
            width, height = round(width * scale), round(height * scale)
    return width, height


def _slug_of(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except (ValueError, Resolver404):  # ValueError: no URL at all ("http://[::1")
        return None
    if match.view_name in ("content:film-detail", "content:embed"):
        return str(match.kwargs["slug"])
    return None


@require_GET
def oembed(request: HttpRequest) -> HttpResponse:
    """oEmbed 1.0 (JSON) for film pages of embeddable films; 404 for anything else.

    Shared caches may keep it only when anyone may see it: staff are answered about
    unpublished films too, which must stay in their own browser whatever a CDN makes of
    `Vary: Cookie` (as film_poster's redirect).
    """
    response = _oembed(request)
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, max_age=300)
    else:
        patch_cache_control(response, public=True, max_age=300)
    return response


def _oembed(request: HttpRequest) -> HttpResponse:
    if request.GET.get("format", "json") != "json":
        return HttpResponse("Only the json format is offered.", status=501)
    slug = _slug_of(request.GET.get("url", ""))
    film = embeddable_film(request, slug) if slug else None
    if film is None:
        raise Http404("No embeddable film at that address.")
    width, height = _size(request)
    body: dict[str, object] = {
        "version": "1.0",
        "type": "video",
        "provider_name": seo.SITE_NAME,
        "provider_url": seo.absolute("/"),
        "title": film.title,
        "width": width,
        "height": height,
        "html": iframe_html(film, width=width, height=height),
    }
    if film.director:
        body["author_name"] = film.director
    poster = seo.film_urls(film)["poster"]
    if poster and film.source_width and film.source_height:
        body.update(
            thumbnail_url=poster,
            thumbnail_width=film.source_width,
            thumbnail_height=film.source_height,
        )
    return JsonResponse(body)
