"""Server-rendered viewer pages: home, categories, search, film, watchlist, errors."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

from content_app.catalogue_cache import catalogue_changed
from content_app.models import Favorite, Film, ProcessingState, RenditionStatus, WatchProgress
from tests.content.factories import make_category, make_film, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client: Client) -> Client:
    client.force_login(make_user())
    return client


def test_home_shows_the_featured_film_new_arrivals_and_a_row_per_category(client: Client) -> None:
    drama = make_category("Drama")
    make_film(title="Harbour Lights", category=drama)
    make_film(title="Desert Wind", category=make_category("Documentary"), is_featured=True)
    make_film(title="Secret Draft", published=False, category=drama)

    page = client.get("/").content.decode()

    hero = page[page.index('class="hero"') : page.index("</section>", page.index('class="hero"'))]
    assert "Desert Wind" in hero
    assert 'id="row-new"' in page
    assert 'href="/categories/drama/"' in page
    assert 'href="/categories/documentary/"' in page
    assert "Harbour Lights" in page
    assert "Secret Draft" not in page


def test_home_shows_continue_watching_to_a_signed_in_viewer(client: Client) -> None:
    user = make_user()
    film = make_film(title="Half Seen", duration=100)
    WatchProgress.objects.create(user=user, film=film, position=30)
    client.force_login(user)

    page = client.get("/").content.decode()

    assert 'id="row-continue"' in page
    assert "Stopped at 30 s" in page


def test_category_page_lists_only_that_category(client: Client) -> None:
    make_film(title="Harbour Lights", category=make_category("Drama"))
    make_film(title="Desert Wind", category=make_category("Documentary"))

    page = client.get("/categories/drama/").content.decode()

    assert "Harbour Lights" in page
    assert "Desert Wind" not in page
    assert client.get("/categories/nothing-here/").status_code == 404


def test_search_finds_a_film_by_a_word_of_its_synopsis(client: Client) -> None:
    make_film(title="Harbour Lights", description="A lighthouse keeper counts the ships.")
    make_film(title="Desert Wind", description="Sand, heat and a lost camel.")

    page = client.get("/search/", {"q": "lighthouse"}).content.decode()

    assert "Harbour Lights" in page
    assert "Desert Wind" not in page


def test_the_former_catalogue_query_urls_still_search(client: Client) -> None:
    make_film(title="Harbour Lights")
    make_film(title="Desert Wind")

    page = client.get("/", {"q": "desert"}).content.decode()

    assert "Desert Wind" in page
    assert "Harbour Lights" not in page


def test_pagination_keeps_the_query(client: Client) -> None:
    for number in range(26):
        make_film(title=f"Lantern {number}")

    first = client.get("/search/", {"q": "lantern"}).content.decode()
    second = client.get("/search/", {"q": "lantern", "page": "2"}).content.decode()

    assert 'href="?q=lantern&amp;page=2"' in first
    assert 'href="?q=lantern&amp;page=1"' in second
    assert second.count('class="card"') == 2


def test_film_page_offers_the_player_to_signed_in_viewers(viewer_client: Client) -> None:
    film = make_film(thumbnail=True, director="Ana Ruiz", year=2024, credits="Ana Ruiz, director")

    page = viewer_client.get(f"/films/{film.slug}/").content.decode()

    assert f'data-master-url="/api/content/{film.pk}/hls/master.m3u8"' in page
    assert f'data-progress-url="/api/content/{film.pk}/progress/"' in page
    assert "<media-controller" in page
    assert "vendor/player/media.js" in page
    assert "Directed by Ana Ruiz" in page
    assert "Add to watchlist" in page
    assert "Copy link at current time" in page


def test_film_page_asks_anonymous_visitors_to_sign_in(client: Client) -> None:
    film = make_film()

    page = client.get(f"/films/{film.slug}/").content.decode()

    assert "Sign in to watch" in page
    assert "data-master-url" not in page


def test_film_page_plays_a_public_playback_film_to_anonymous_visitors(client: Client) -> None:
    film = make_film(public_playback=True)

    page = client.get(f"/films/{film.slug}/").content.decode()

    assert "data-master-url" in page
    assert 'data-progress-url=""' in page  # nobody to save progress for
    assert f"/embed/{film.slug}/" in page  # embed code


def test_film_page_starts_at_t_over_the_saved_position(client: Client) -> None:
    user = make_user()
    film = make_film(duration=100)
    WatchProgress.objects.create(user=user, film=film, position=42)
    client.force_login(user)

    assert 'data-start="42.000000"' in client.get(f"/films/{film.slug}/").content.decode()
    page = client.get(f"/films/{film.slug}/", {"t": "5"}).content.decode()
    assert 'data-start="5.000000"' in page


def test_film_still_processing_says_it_is_on_its_way(client: Client) -> None:
    # Staff see a film before anything of it is playable; viewers get a 404.
    film = make_film(status=RenditionStatus.PROCESSING)
    Film.objects.filter(pk=film.pk).update(processing_state=ProcessingState.PROCESSING)
    assert client.get(f"/films/{film.slug}/").status_code == 404
    client.force_login(make_user(staff=True))

    page = client.get(f"/films/{film.slug}/").content.decode()

    assert "on its way" in page
    assert "data-master-url" not in page


def test_film_page_of_a_hidden_film_is_404(client: Client) -> None:
    film = make_film(taken_down=True)

    assert client.get(f"/films/{film.slug}/").status_code == 404


def test_watchlist_button_adds_and_removes_and_the_watchlist_lists_it(
    viewer_client: Client,
) -> None:
    film = make_film(title="Harbour Lights")

    response = viewer_client.post(f"/films/{film.slug}/favorite/")

    assert response.status_code == 302
    assert Favorite.objects.filter(film=film).exists()
    assert "Harbour Lights" in viewer_client.get("/watchlist/").content.decode()
    assert "Remove from watchlist" in viewer_client.get(f"/films/{film.slug}/").content.decode()
    viewer_client.post(f"/films/{film.slug}/favorite/")
    assert not Favorite.objects.filter(film=film).exists()


def test_watchlist_and_continue_watching_need_a_sign_in(client: Client) -> None:
    assert client.get("/watchlist/").status_code == 302
    assert client.get("/favorites/").status_code == 302
    assert client.get("/continue-watching/").status_code == 302


def test_continue_watching_page_shows_where_the_viewer_stopped(client: Client) -> None:
    user = make_user()
    film = make_film(title="Harbour Lights", duration=100)
    WatchProgress.objects.create(user=user, film=film, position=42)
    client.force_login(user)

    page = client.get("/continue-watching/").content.decode()

    assert "Harbour Lights" in page
    assert "Stopped at 42 s" in page


def test_footer_links_the_legal_pages(client: Client) -> None:
    page = client.get("/").content.decode()

    for path_ in ("/legal/terms/", "/legal/privacy/", "/legal/dmca/", "/legal/transparency/"):
        assert f'href="{path_}"' in page


@pytest.mark.parametrize(
    "url", ["/", "/search/?q=film", "/categories/drama/", "/films/{slug}/", "/watchlist/"]
)
def test_page_query_count_does_not_grow_with_the_catalogue(client: Client, url: str) -> None:
    client.force_login(make_user())
    drama = make_category("Drama")
    film = make_film(category=drama, thumbnail=True)
    address = url.format(slug=film.slug)
    client.get(address)  # the first request of a session also reads what it caches
    catalogue_changed()  # both measured requests build the shared entries afresh
    with CaptureQueriesContext(connection) as few:
        assert client.get(address).status_code == 200
    for _ in range(30):
        make_film(category=make_category(), thumbnail=True, qualities=("120p", "360p"))
        make_film(category=drama)
    with CaptureQueriesContext(connection) as many:
        assert client.get(address).status_code == 200

    assert len(many) == len(few)


# --- Friendly error pages, rendered as production renders them (DEBUG is off in tests) ---


def _boom(request: object) -> HttpResponse:
    raise RuntimeError("a bug")


def _forbidden(request: object) -> HttpResponse:
    raise PermissionDenied


def _database_down(request: object) -> HttpResponse:
    raise OperationalError("connection refused")


urlpatterns = [
    path("boom/", _boom),
    path("forbidden/", _forbidden),
    path("down/", _database_down),
    path("", include("affea.urls")),
]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/no-such-page/", 404, "find that page"),
        ("/forbidden/", 403, "open this page"),
        ("/boom/", 500, "Something went wrong on our side"),
        ("/down/", 503, "Affea is catching its breath"),
    ],
)
def test_error_pages_are_friendly_with_debug_off(url: str, status: int, text: str) -> None:
    client = Client(raise_request_exception=False)

    response = client.get(url)

    assert response.status_code == status
    body = response.content.decode()
    assert text in body
    assert "Traceback" not in body
    assert re.search(r'<html lang="en">', body)
    if status == 503:
        assert response["Retry-After"] == "30"
