"""Server-rendered catalogue pages."""

from __future__ import annotations

import pytest
from django.test import Client

from content_app.models import Favorite, WatchProgress
from tests.content.factories import make_category, make_film, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client: Client) -> Client:
    client.force_login(make_user())
    return client


def test_catalogue_lists_visible_films_and_categories(client: Client) -> None:
    make_film(title="Harbour Lights", category=make_category("Drama"))
    make_film(title="Secret Draft", published=False)

    page = client.get("/").content.decode()

    assert "Harbour Lights" in page
    assert "Secret Draft" not in page
    assert "?category=drama" in page


def test_catalogue_search_narrows_the_list(client: Client) -> None:
    make_film(title="Harbour Lights")
    make_film(title="Desert Wind")

    page = client.get("/", {"q": "desert"}).content.decode()

    assert "Desert Wind" in page
    assert "Harbour Lights" not in page


def test_film_page_offers_the_player_to_signed_in_viewers(viewer_client: Client) -> None:
    film = make_film(thumbnail=True)

    page = viewer_client.get(f"/films/{film.slug}/").content.decode()

    assert f'data-master-url="/api/content/{film.pk}/hls/master.m3u8"' in page
    assert "vendor/hls.js/hls.min.js" in page
    assert "js/player.js" in page


def test_film_page_asks_anonymous_visitors_to_sign_in(client: Client) -> None:
    film = make_film()

    page = client.get(f"/films/{film.slug}/").content.decode()

    assert "Sign in to watch" in page
    assert "data-master-url" not in page


def test_film_page_of_a_hidden_film_is_404(client: Client) -> None:
    film = make_film(taken_down=True)

    assert client.get(f"/films/{film.slug}/").status_code == 404


def test_favourite_button_toggles_and_the_favourites_page_lists_it(viewer_client: Client) -> None:
    film = make_film(title="Harbour Lights")

    response = viewer_client.post(f"/films/{film.slug}/favorite/")

    assert response.status_code == 302
    assert Favorite.objects.filter(film=film).exists()
    assert "Harbour Lights" in viewer_client.get("/favorites/").content.decode()


def test_favourites_and_continue_watching_need_a_sign_in(client: Client) -> None:
    assert client.get("/favorites/").status_code == 302
    assert client.get("/continue-watching/").status_code == 302


def test_continue_watching_page_shows_where_the_viewer_stopped(client: Client) -> None:
    user = make_user()
    film = make_film(title="Harbour Lights", duration=100)
    WatchProgress.objects.create(user=user, film=film, position=42)
    client.force_login(user)

    page = client.get("/continue-watching/").content.decode()

    assert "Harbour Lights" in page
    assert "stopped at 42 s" in page
