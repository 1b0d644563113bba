"""What crawlers and unfurlers read: meta tags, JSON-LD, sitemap, robots, cached static files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from content_app.sitemaps import FilmSitemap
from tests.content.factories import make_film, make_user

pytestmark = pytest.mark.django_db

NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "v": "http://www.google.com/schemas/sitemap-video/1.1",
}


def _meta(page: str, attribute: str, name: str) -> str:
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', page)
    assert match, f"no {name} meta tag"
    return match.group(1)


def _json_ld(page: str) -> dict[str, object]:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match, "no JSON-LD"
    return json.loads(match.group(1))


def test_film_page_has_title_description_canonical_and_social_cards(client: Client) -> None:
    film = make_film(title="Harbour Lights", description="A lighthouse keeper.", thumbnail=True)

    page = client.get(f"/films/{film.slug}/").content.decode()

    canonical = f"{settings.SITE_URL}/films/{film.slug}/"
    assert "<title>Harbour Lights · Affea</title>" in page
    assert _meta(page, "name", "description") == "A lighthouse keeper."
    assert f'<link rel="canonical" href="{canonical}">' in page
    assert _meta(page, "property", "og:title") == "Harbour Lights"
    assert _meta(page, "property", "og:type") == "video.other"
    assert _meta(page, "property", "og:url") == canonical
    assert _meta(page, "property", "og:image") == f"{canonical}poster"
    assert _meta(page, "name", "twitter:card") == "summary_large_image"


def test_film_page_has_a_video_object(client: Client) -> None:
    film = make_film(title="Harbour <Lights>", thumbnail=True, public_playback=True, duration=65)

    data = _json_ld(client.get(f"/films/{film.slug}/").content.decode())

    assert data["@type"] == "VideoObject"
    assert data["name"] == "Harbour <Lights>"
    assert data["duration"] == "PT1M5S"
    assert data["thumbnailUrl"] == [f"{settings.SITE_URL}/films/{film.slug}/poster"]
    assert data["embedUrl"] == f"{settings.SITE_URL}/embed/{film.slug}/"
    assert film.published_at is not None
    assert str(data["uploadDate"]).startswith(str(film.published_at.year))


def test_an_embeddable_film_offers_oembed_discovery_and_a_player_card(client: Client) -> None:
    public = make_film(public_playback=True)
    private = make_film()

    page = client.get(f"/films/{public.slug}/").content.decode()

    assert 'type="application/json+oembed"' in page
    assert _meta(page, "name", "twitter:card") == "player"
    assert _meta(page, "name", "twitter:player") == f"{settings.SITE_URL}/embed/{public.slug}/"
    assert "json+oembed" not in client.get(f"/films/{private.slug}/").content.decode()


def test_poster_address_redirects_to_a_fresh_signed_url(client: Client) -> None:
    film = make_film(thumbnail=True)

    response = client.get(f"/films/{film.slug}/poster")

    assert response.status_code == 302
    assert "X-Amz-Signature=" in response["Location"]
    assert client.get(f"/films/{make_film().slug}/poster").status_code == 404


def test_only_a_poster_anyone_may_see_is_left_to_shared_caches(client: Client) -> None:
    public = make_film(thumbnail=True)
    draft = make_film(thumbnail=True, published=False)
    anonymous = client.get(f"/films/{public.slug}/poster")
    client.force_login(make_user(staff=True))

    staff_public = client.get(f"/films/{public.slug}/poster")
    staff_draft = client.get(f"/films/{draft.slug}/poster")

    def directives(response: Any) -> set[str]:
        return {part.strip() for part in response["Cache-Control"].split(",")}

    assert directives(anonymous) == {"public", "max-age=60"}
    for response in (staff_public, staff_draft):
        assert response.status_code == 302
        assert directives(response) == {"private", "max-age=60"}


@override_settings(CATALOGUE_PRIVATE=True)
def test_a_private_catalogues_poster_sign_in_redirect_is_not_cached(client: Client) -> None:
    film = make_film(thumbnail=True)

    response = client.get(f"/films/{film.slug}/poster")

    assert response.status_code == 302
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def _sitemap(client: Client, path: str, host: str = "testserver") -> ElementTree.Element:
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own response


def _index(client: Client, host: str = "testserver") -> list[str]:
    """The sitemap pages /sitemap.xml lists."""
    root = _sitemap(client, "/sitemap.xml", host)
    return [str(loc.text) for loc in root.iter(f"{{{NS['s']}}}loc")]


def _urls(client: Client) -> dict[str, ElementTree.Element]:
    """Every <url> of every page of the index, by location."""
    found: dict[str, ElementTree.Element] = {}
    for page in _index(client):
        assert page.startswith(settings.SITE_URL)
        root = _sitemap(client, page.removeprefix(settings.SITE_URL))
        found.update(
            {str(u.findtext("s:loc", namespaces=NS)): u for u in root.findall("s:url", NS)}
        )
    return found


def test_sitemap_lists_visible_films_with_the_video_extension(client: Client) -> None:
    film = make_film(title="Harbour Lights", thumbnail=True, duration=65, public_playback=True)
    hidden = make_film(title="Secret Draft", published=False)

    urls = _urls(client)

    entry = urls[f"{settings.SITE_URL}/films/{film.slug}/"]
    assert f"{settings.SITE_URL}/films/{hidden.slug}/" not in urls
    assert f"{settings.SITE_URL}/" in urls
    video = entry.find("v:video", NS)
    assert video is not None
    assert video.findtext("v:title", namespaces=NS) == "Harbour Lights"
    assert video.findtext("v:duration", namespaces=NS) == "65"
    assert (
        video.findtext("v:player_loc", namespaces=NS) == f"{settings.SITE_URL}/embed/{film.slug}/"
    )
    assert str(video.findtext("v:thumbnail_loc", namespaces=NS)).endswith(
        f"/films/{film.slug}/poster"
    )


def test_the_sitemap_index_pages_the_films_so_a_big_catalogue_is_listed_whole(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FilmSitemap, "limit", 2)
    films = [make_film(title=f"Film {n}") for n in range(5)]

    # On SITE_URL whatever Host the crawler asked.
    pages = _index(client, host="127.0.0.1")

    assert pages == [
        f"{settings.SITE_URL}/sitemap-pages.xml",
        f"{settings.SITE_URL}/sitemap-films.xml",
        f"{settings.SITE_URL}/sitemap-films.xml?p=2",
        f"{settings.SITE_URL}/sitemap-films.xml?p=3",
    ]
    urls = _urls(client)
    assert {f"{settings.SITE_URL}/films/{f.slug}/" for f in films} <= set(urls)
    for bad in ("/sitemap-films.xml?p=4", "/sitemap-films.xml?p=x", "/sitemap-other.xml"):
        assert client.get(bad).status_code == 404


def test_sitemap_pages_are_kept_rendered_until_the_catalogue_changes(
    client: Client, django_assert_num_queries: Any
) -> None:
    make_film(title="First Light")
    first = client.get("/sitemap-films.xml").content
    index = client.get("/sitemap.xml").content
    assert b"First Light" in first

    with django_assert_num_queries(0):
        assert client.get("/sitemap-films.xml").content == first
        assert client.get("/sitemap.xml").content == index

    make_film(title="Second Light")  # a write moves the catalogue version
    assert b"Second Light" in client.get("/sitemap-films.xml").content


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_out_of_private_paths(
    client: Client,
) -> None:
    body = client.get("/robots.txt").content.decode()

    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in body
    assert "Disallow: /admin/" in body
    assert "Disallow: /api/" in body


def test_search_results_are_not_indexed(client: Client) -> None:
    page = client.get("/search/", {"q": "anything"}).content.decode()

    assert '<meta name="robots" content="noindex, follow">' in page


def test_static_files_are_compressed_hashed_and_cached_for_long(tmp_path: Path) -> None:
    manifest_storage = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=manifest_storage):
        call_command(
            "collectstatic", "--no-input", "-i", "drf-yasg", "-i", "rest_framework", verbosity=0
        )
        manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
        hashed = manifest["js/player.js"]
        assert hashed != "js/player.js"
        assert (tmp_path / f"{hashed}.gz").exists()

        response = Client().get(f"/static/{hashed}", headers={"accept-encoding": "gzip"})

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    max_age = re.search(r"max-age=(\d+)", response["Cache-Control"])
    assert max_age is not None
    assert int(max_age.group(1)) >= 31_536_000


@override_settings(CATALOGUE_PRIVATE=True)
def test_a_private_catalogue_gives_crawlers_neither_sitemap_entries_nor_posters(
    client: Client,
) -> None:
    film = make_film(title="Members Only Film", description="Secret synopsis", thumbnail=True)

    sitemaps = [client.get(page).content.decode() for page in ("/sitemap.xml",
                "/sitemap-films.xml", "/sitemap-pages.xml")]  # fmt: skip
    poster = client.get(f"/films/{film.slug}/poster")

    assert all("Members Only Film" not in sitemap for sitemap in sitemaps)
    assert all(film.slug not in sitemap for sitemap in sitemaps)
    assert poster.status_code == 302
    assert poster["Location"].startswith("/accounts/login/")
