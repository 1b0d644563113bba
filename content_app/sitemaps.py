"""/sitemap.xml, an index of /sitemap-<section>.xml (Django's sitemaps with Google's video
extension, FilmSitemap.limit films a page), and /robots.txt.

A page of 5,000 films takes over a second of a core to build (a URL, a description and a
video entry each), so a crawler fetching pages would keep web processes busy: every page,
and the index, is kept rendered in the catalogue cache until the catalogue changes.
bench/api.py ("sitemap films page", 10,000 films, two runs): the one request that builds a
page took 1.1 s; from the cache, 50 clients got p95 457-765 ms at 143-179 pages/s of
4.4 MB each, where building every answer would give about one or two pages a second.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem
from django.contrib.sitemaps.views import index as index_view
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.db.models import Max, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from affea.numbers import parse_id
from content_app import catalogue_cache, selectors, seo
from content_app.models import Category, Film

CACHE_SECONDS = 3600


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

    def get_latest_lastmod(self) -> datetime | None:
        # The index's date, from the database: Django's default reads every film for it.
        latest: datetime | None = self.items().aggregate(latest=Max("updated_at"))["latest"]
        return latest

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


def _xml(content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="application/xml")
    response["X-Robots-Tag"] = "noindex, noodp, noarchive"  # as Django's views say
    return response


def _rendered(response: HttpResponse) -> bytes:
    assert isinstance(response, TemplateResponse)  # Django's sitemap views answer so
    return response.render().content


@require_GET
@cache_control(public=True, max_age=CACHE_SECONDS)
def sitemap(request: HttpRequest) -> HttpResponse:
    """The index of every section's pages, on SITE_URL whatever the request's Host."""

    def build() -> bytes:
        response = index_view(
            request,
            sitemaps=SITEMAPS,
            template_name="content_app/sitemap_index.xml",
            sitemap_url_name="sitemap-section",
        )
        assert isinstance(response, TemplateResponse)
        assert isinstance(response.context_data, dict)
        response.context_data["sitemaps"] = [
            SitemapIndexItem(seo.absolute(_path_and_query(item.location)), item.last_mod)
            for item in response.context_data["sitemaps"]
        ]
        return _rendered(response)

    return _xml(catalogue_cache.cached("sitemap-index", (), build, timeout=CACHE_SECONDS))


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@require_GET
@cache_control(public=True, max_age=CACHE_SECONDS)
def sitemap_section(request: HttpRequest, section: str) -> HttpResponse:
    page = parse_id(request.GET.get("p", "1"))
    if section not in SITEMAPS or page is None:
        raise Http404("No such sitemap page.")

    def build() -> bytes:
        return _rendered(
            sitemap_view(
                request,
                sitemaps=SITEMAPS,
                section=section,
                template_name="content_app/sitemap.xml",
            )
        )

    return _xml(catalogue_cache.cached("sitemap", (section, page), build, timeout=CACHE_SECONDS))


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
