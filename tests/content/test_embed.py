"""Embeds: a framable player page and oEmbed for public-playback films, anonymous playback."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.content.factories import make_film, make_user

pytestmark = pytest.mark.django_db


def test_embed_page_of_a_public_film_may_be_framed_by_any_site(client: Client) -> None:
    film = make_film(public_playback=True)

    response = client.get(f"/embed/{film.slug}/")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == "frame-ancestors *"
    assert f'data-master-url="/api/content/{film.pk}/hls/master.m3u8"' in response.content.decode()


def test_every_other_page_refuses_to_be_framed(client: Client) -> None:
    film = make_film(public_playback=True)

    for url in ("/", f"/films/{film.slug}/", "/accounts/login/"):
        assert client.get(url)["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "fields", [{}, {"public_playback": True, "taken_down": True}], ids=["not public", "hidden"]
)
def test_embed_page_is_404_unless_the_film_is_visible_and_public(client: Client, fields) -> None:
    film = make_film(**fields)

    assert client.get(f"/embed/{film.slug}/").status_code == 404


def test_anonymous_viewers_play_a_public_film_through_signed_urls(client: Client) -> None:
    film = make_film(public_playback=True, qualities=("120p", "360p"))

    answer = client.get(f"/api/content/video-url/{film.pk}/")
    master = client.get(f"/api/content/{film.pk}/hls/master.m3u8")

    assert answer.status_code == 200
    assert "X-Amz-Signature=" in answer.json()["url"]
    assert master.status_code == 200
    variant = next(line for line in master.content.decode().splitlines() if "360p.m3u8" in line)
    playlist = client.get(f"/api/content/{film.pk}/hls/{variant}")
    assert playlist.status_code == 200
    assert "X-Amz-Signature=" in playlist.content.decode()


def test_anonymous_viewers_are_asked_to_sign_in_for_other_films(client: Client) -> None:
    film = make_film()

    assert client.get(f"/api/content/video-url/{film.pk}/").status_code == 401
    assert client.get(f"/api/content/{film.pk}/hls/master.m3u8").status_code == 401


def test_oembed_describes_an_embeddable_film_as_a_video_player(client: Client) -> None:
    film = make_film(title="Harbour Lights", public_playback=True, director="Ana Ruiz")
    page = f"{settings.SITE_URL}/films/{film.slug}/"

    body = client.get("/oembed", {"url": page, "maxwidth": "320"}).json()

    assert body["type"] == "video"
    assert body["version"] == "1.0"
    assert body["title"] == "Harbour Lights"
    assert body["author_name"] == "Ana Ruiz"
    assert (body["width"], body["height"]) == (320, 180)
    assert f'src="{settings.SITE_URL}/embed/{film.slug}/"' in body["html"]


def test_oembed_answers_404_for_films_that_are_not_embeddable(client: Client) -> None:
    private = make_film()
    hidden = make_film(public_playback=True, published=False)

    for film in (private, hidden):
        url = f"{settings.SITE_URL}/films/{film.slug}/"
        assert client.get("/oembed", {"url": url}).status_code == 404
    assert client.get("/oembed", {"url": "https://elsewhere.example/"}).status_code == 404
    assert client.get("/oembed", {"url": "http://[::1"}).status_code == 404  # no URL at all


def test_oembed_offers_only_json(client: Client) -> None:
    film = make_film(public_playback=True)
    url = f"{settings.SITE_URL}/films/{film.slug}/"

    assert client.get("/oembed", {"url": url, "format": "xml"}).status_code == 501


def test_embed_starts_at_t(client: Client) -> None:
    film = make_film(public_playback=True)

    page = client.get(f"/embed/{film.slug}/", {"t": "12.5"}).content.decode()

    assert 'data-start="12.500000"' in page


@pytest.mark.parametrize("nonsense", ["inf", "1e400", "nan", "-3", "soon"])
def test_embed_ignores_a_start_that_is_no_time(client: Client, nonsense: str) -> None:
    film = make_film(public_playback=True)

    page = client.get(f"/embed/{film.slug}/", {"t": nonsense}).content.decode()

    assert 'data-start="0.000000"' in page


def test_oembed_is_shared_cacheable_for_anonymous_viewers_only(client: Client) -> None:
    draft = make_film(published=False, public_playback=True, title="Secret Draft")
    staff = Client()
    staff.force_login(make_user(staff=True))

    seen_by_staff = staff.get("/oembed", {"url": f"http://testserver/films/{draft.slug}/"})

    assert "Secret Draft" in seen_by_staff.content.decode()
    assert "private" in seen_by_staff["Cache-Control"]
    assert "public" not in seen_by_staff["Cache-Control"]
    film = make_film(public_playback=True, title="Out There")
    anonymous = client.get("/oembed", {"url": f"http://testserver/films/{film.slug}/"})
    assert anonymous.status_code == 200
    assert "public" in anonymous["Cache-Control"]
