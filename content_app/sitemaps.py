"""/sitemap.xml (Django's sitemaps with Google's video extension) and /robots.txt."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from content_app import selectors, seo
from content_app.models import Category, Film


class _SiteSitemap(Sitemap):
    """URLs on SITE_URL's scheme and host, whatever Host header the request came with."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site: Any = None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class FilmSitemap(_SiteSitemap):
    """Every film an anonymous visitor may see, with its <video:video> entry."""

    changefreq = "weekly"
    limit = 5000

    def items(self) -> QuerySet[Film]:
        if settings.CATALOGUE_PRIVATE:  # members only: nothing of it is for crawlers
            return Film.objects.none()
        return (
            selectors.films_visible_to(AnonymousUser())
            .only(
                "slug",
                "title",
                "description",
                "duration",
                "poster",
                "thumbnail",
                "public_playback",
                "published_at",
                "created_at",
                "updated_at",
                "director",
            )
            .order_by("-published_at", "pk")
        )

    def location(self, item: Film) -> str:
        return reverse("content:film-detail", kwargs={"slug": item.slug})

    def lastmod(self, item: Film) -> datetime:
        return item.updated_at

    def get_urls(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        urls = super().get_urls(*args, **kwargs)
        for url in urls:
            film: Film = url["item"]
            links = seo.film_urls(film)
            # Google requires a thumbnail and a content or player location of each video;
            # a film that needs sign-in is offered through its page.
            url["video"] = {
                "thumbnail_loc": links["poster"],
                "title": film.title,
                "description": Truncator(" ".join(film.description.split()) or film.title).chars(
                    2048
                ),
                "player_loc": links["embed"] or links["page"],
                "duration": round(film.duration) if film.duration else None,
                "publication_date": (film.published_at or film.created_at).isoformat(),
                "requires_subscription": "no" if film.public_playback else "yes",
            }
        return urls


class PageSitemap(_SiteSitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        if settings.CATALOGUE_PRIVATE:
            return []
        pages = [reverse("content:home")]
        pages += [
            reverse("content:category", kwargs={"slug": slug})
            for slug in Category.objects.values_list("slug", flat=True)
        ]
        return pages

    def location(self, item: str) -> str:
        return item


SITEMAPS: dict[str, type[Sitemap[Any]] | Sitemap[Any]] = {
    "pages": PageSitemap,
    "films": FilmSitemap,
}


@require_GET
@cache_control(public=True, max_age=3600)
def sitemap(request: HttpRequest) -> HttpResponse:
    return sitemap_view(request, sitemaps=SITEMAPS, template_name="content_app/sitemap.xml")


@require_GET
@cache_control(public=True, max_age=86400)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /accounts/",
        "Disallow: /search/",
        "Disallow: /watchlist/",
        "Disallow: /continue-watching/",
        "Allow: /",
        "",
        f"Sitemap: {seo.absolute(reverse('sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
