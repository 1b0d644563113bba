"""Catalogue API: shapes and rules of API.md's content endpoints."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from content_app.models import Favorite, RenditionStatus, WatchProgress
from tests.content.factories import make_category, make_film, make_user

pytestmark = pytest.mark.django_db

FILM_FIELDS = {
    "id",
    "slug",
    "created_at",
    "title",
    "description",
    "category",
    "duration",
    "image_file",
    "video_file",
    "converted_files",
    "processing_state",
    "processing_error",
    "is_favorite",
}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def viewer_api(api: APIClient) -> APIClient:
    api.force_authenticate(make_user())
    return api


def test_list_is_a_bare_list_of_film_items(api: APIClient) -> None:
    film = make_film(
        title="Lighthouse", category=make_category("Drama"), qualities=("120p", "360p")
    )

    response = api.get("/api/content/")

    assert response.status_code == 200
    [item] = response.json()
    assert set(item) >= FILM_FIELDS
    assert item["id"] == film.pk
    assert item["category"] == "Drama"
    assert item["video_file"] is None
    assert item["converted_files"] == {"120p": True, "360p": True}
    assert item["processing_state"] == "ready"
    assert item["is_favorite"] is False


def test_list_paginates_when_asked_with_page(api: APIClient) -> None:
    for _ in range(3):
        make_film()

    response = api.get("/api/content/", {"page": 1, "page_size": 2})

    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2


def test_list_hides_unpublished_taken_down_and_unplayable_films(api: APIClient) -> None:
    visible = make_film()
    make_film(published=False)
    make_film(taken_down=True)
    make_film(status=RenditionStatus.PROCESSING)

    ids = [item["id"] for item in api.get("/api/content/").json()]

    assert ids == [visible.pk]


def test_staff_see_every_film_with_its_processing_error(api: APIClient) -> None:
    make_film()
    broken = make_film(published=False, status=RenditionStatus.ERROR)
    broken.processing_state = "error"
    broken.processing_error = "Not a video file."
    broken.save()
    api.force_authenticate(make_user(staff=True))

    items = {item["id"]: item for item in api.get("/api/content/").json()}

    assert len(items) == 2
    assert items[broken.pk]["processing_error"] == "Not a video file."
    assert items[broken.pk]["converted_files"] == {"360p": False}


def test_viewers_never_see_a_processing_error(api: APIClient) -> None:
    make_film(processing_error="ffmpeg exploded")

    [item] = api.get("/api/content/").json()

    assert item["processing_error"] is None


def test_image_file_is_an_absolute_url(api: APIClient) -> None:
    make_film(thumbnail=True)

    [item] = api.get("/api/content/").json()

    assert item["image_file"].startswith("http")


def test_list_filters_by_category_slug_or_name(api: APIClient) -> None:
    drama, comedy = make_category("Drama"), make_category("Comedy")
    film = make_film(category=drama)
    make_film(category=comedy)

    by_slug = api.get("/api/content/", {"category": "drama"}).json()
    by_name = api.get("/api/content/", {"category": "Drama"}).json()

    assert [i["id"] for i in by_slug] == [film.pk]
    assert [i["id"] for i in by_name] == [film.pk]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lighthouse", "title"),
        ("storm", "description"),
        ("martinez", "credits"),
        ("lightho", "title"),
    ],
)
def test_search_matches_title_description_and_credits(
    api: APIClient, query: str, expected: str
) -> None:
    film = make_film(
        title="The Lighthouse Keeper",
        description="A storm cuts the island off.",
        credits="Director: Ana Martinez",
    )
    make_film(title="Unrelated", description="Nothing here.")

    results = api.get("/api/content/", {"search": query}).json()

    assert [r["id"] for r in results] == [film.pk], expected


def test_search_with_only_punctuation_finds_nothing_without_error(api: APIClient) -> None:
    make_film()

    response = api.get("/api/content/", {"search": "&|!:*()"})

    assert response.status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN index exists on PostgreSQL")
def test_search_query_can_use_the_gin_index() -> None:
    from content_app.models import Film
    from content_app.selectors import film_search

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        sql, params = film_search(Film.objects.all(), "storm").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")

    assert "film_search_gin" in plan


def test_list_query_count_does_not_grow_with_films(viewer_api: APIClient) -> None:
    make_film(thumbnail=True, category=make_category())
    with CaptureQueriesContext(connection) as one:
        assert len(viewer_api.get("/api/content/").json()) == 1
    for _ in range(49):
        make_film(thumbnail=True, category=make_category(), qualities=("120p", "360p"))
    with CaptureQueriesContext(connection) as fifty:
        assert len(viewer_api.get("/api/content/").json()) == 50

    # films, their renditions, their subtitles (and the favourites of the viewer)
    assert len(fifty) == len(one) <= 4


def test_private_catalogue_answers_401_to_anonymous(api: APIClient, settings) -> None:
    settings.CATALOGUE_PRIVATE = True
    make_film()

    assert api.get("/api/content/").status_code == 401


def test_detail_returns_the_film_item(api: APIClient) -> None:
    film = make_film()

    response = api.get(f"/api/content/{film.pk}/")

    assert response.status_code == 200
    assert response.json()["slug"] == film.slug


def test_detail_of_an_invisible_film_is_404(api: APIClient) -> None:
    film = make_film(published=False)

    assert api.get(f"/api/content/{film.pk}/").status_code == 404


def test_categories_list_id_name_slug(api: APIClient) -> None:
    drama = make_category("Drama")

    assert api.get("/api/content/categories/").json() == [
        {"id": drama.pk, "name": "Drama", "slug": "drama"}
    ]


def test_add_favorite_toggles_and_returns_the_favourite_ids(viewer_api: APIClient) -> None:
    first, second = make_film(), make_film()

    assert viewer_api.post("/api/content/add-favorite/", {"video_id": first.pk}).json() == [
        first.pk
    ]
    added = viewer_api.post("/api/content/add-favorite/", {"video_id": second.pk}, format="json")
    removed = viewer_api.post("/api/content/add-favorite/", {"video_id": first.pk}, format="json")

    assert added.json() == [first.pk, second.pk]
    assert removed.status_code == 200
    assert removed.json() == [second.pk]


def test_add_favorite_errors(api: APIClient, viewer_api: APIClient) -> None:
    assert viewer_api.post("/api/content/add-favorite/", {}, format="json").status_code == 400
    missing = viewer_api.post("/api/content/add-favorite/", {"video_id": 99999}, format="json")
    assert missing.status_code == 404


def test_add_favorite_needs_a_signed_in_viewer(api: APIClient) -> None:
    film = make_film()

    assert api.post("/api/content/add-favorite/", {"video_id": film.pk}).status_code == 401
    assert api.get("/api/content/favorites/").status_code == 401


def test_favorites_lists_film_items_marked_favourite(viewer_api: APIClient) -> None:
    film = make_film()
    make_film()
    viewer_api.post("/api/content/add-favorite/", {"video_id": film.pk}, format="json")

    items = viewer_api.get("/api/content/favorites/").json()

    assert [i["id"] for i in items] == [film.pk]
    assert items[0]["is_favorite"] is True


@pytest.mark.parametrize("path", ["/api/content/", "/api/content/favorites/",
                                  "/api/content/continue-watching/"])  # fmt: skip
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": "abc"}, "page"),
        ({"page": 0}, "page"),
        ({"page": 1, "page_size": 1000}, "page_size"),
    ],
)
def test_every_paginated_list_answers_a_malformed_page_with_a_400_naming_it(
    viewer_api: APIClient, path: str, query: dict[str, str | int], field: str
) -> None:
    response = viewer_api.get(path, query)

    assert response.status_code == 400
    assert field in response.json()


def test_a_page_past_the_end_of_a_list_is_404(viewer_api: APIClient) -> None:
    film = make_film()
    viewer_api.post("/api/content/add-favorite/", {"video_id": film.pk}, format="json")

    assert viewer_api.get("/api/content/favorites/", {"page": 1}).json()["count"] == 1
    assert viewer_api.get("/api/content/favorites/", {"page": 2}).status_code == 404


def test_favourite_of_a_film_taken_down_disappears_from_the_list(viewer_api: APIClient) -> None:
    film = make_film()
    viewer_api.post("/api/content/add-favorite/", {"video_id": film.pk}, format="json")
    film.taken_down_at = film.published_at
    film.save()

    assert viewer_api.get("/api/content/favorites/").json() == []
    assert Favorite.objects.filter(film=film).exists()


def test_progress_is_recorded_with_204(viewer_api: APIClient) -> None:
    film = make_film(duration=100)

    response = viewer_api.put(
        f"/api/content/{film.pk}/progress/", {"position": 42.5}, format="json"
    )
    viewer_api.put(f"/api/content/{film.pk}/progress/", {"position": 50}, format="json")

    assert response.status_code == 204
    assert WatchProgress.objects.get(film=film).position == 50


@pytest.mark.parametrize("position", [-1, 101.5, "soon", True, False, None, [3]])
def test_progress_rejects_negative_past_the_end_or_not_a_number(
    viewer_api: APIClient, position: object
) -> None:
    film = make_film(duration=100)

    response = viewer_api.put(
        f"/api/content/{film.pk}/progress/", {"position": position}, format="json"
    )

    assert response.status_code == 400
    assert "position" in response.json()


def test_progress_of_unknown_film_is_404_and_anonymous_is_refused(viewer_api: APIClient) -> None:
    api = APIClient()
    film = make_film()

    unknown = viewer_api.put("/api/content/99999/progress/", {"position": 1}, format="json")
    assert unknown.status_code == 404
    anonymous = api.put(f"/api/content/{film.pk}/progress/", {"position": 1}, format="json")
    assert anonymous.status_code == 401


def test_continue_watching_lists_unfinished_films_most_recent_first(api: APIClient) -> None:
    user = make_user()
    api.force_authenticate(user)
    older, newer, finished, unstarted = (make_film(duration=100) for _ in range(4))
    for film, position in ((older, 10), (newer, 20), (finished, 99)):
        api.put(f"/api/content/{film.pk}/progress/", {"position": position}, format="json")

    items = api.get("/api/content/continue-watching/").json()

    assert [(i["id"], i["position"]) for i in items] == [(newer.pk, 20), (older.pk, 10)]
    assert unstarted.pk not in [i["id"] for i in items]


# --- The shared list cache --------------------------------------------------------------


def test_viewer_list_is_served_from_the_cache_until_the_catalogue_changes(api: APIClient) -> None:
    from content_app import services

    film, other = make_film(), make_film()
    assert len(api.get("/api/content/").json()) == 2

    with CaptureQueriesContext(connection) as queries:
        again = api.get("/api/content/").json()
    services.film_unpublish(film=film)
    after = api.get("/api/content/").json()

    assert len(queries) == 0
    assert len(again) == 2
    assert [i["id"] for i in after] == [other.pk]


def test_parameters_the_list_does_not_read_add_no_cache_entries(api: APIClient) -> None:
    from django.core.cache import cache

    make_film()
    api.get("/api/content/")  # the shared entry exists
    redis = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
    before = len(redis.keys("*"))

    for number in range(20):
        assert api.get("/api/content/", {"utm": str(number)}).status_code == 200

    # Each junk value added two entries (list and gzipped list) of the whole catalogue.
    assert len(redis.keys("*")) == before


def test_cached_list_shows_each_viewer_only_their_favourites(api: APIClient) -> None:
    film = make_film()
    fan, other = make_user(), make_user()
    Favorite.objects.create(user=fan, film=film)

    api.force_authenticate(fan)
    assert api.get("/api/content/").json()[0]["is_favorite"] is True
    api.force_authenticate(other)
    assert api.get("/api/content/").json()[0]["is_favorite"] is False
    api.force_authenticate(None)
    assert api.get("/api/content/").json()[0]["is_favorite"] is False


@pytest.mark.parametrize("query", ["", "?page=1&page_size=2"])
def test_signed_in_list_is_the_anonymous_one_with_their_favourites_marked(
    api: APIClient, query: str
) -> None:
    for _ in range(3):
        make_film()
    anonymous = api.get(f"/api/content/{query}").json()
    items = anonymous["results"] if isinstance(anonymous, dict) else anonymous
    favourite = items[0]["id"]
    fan = make_user()
    Favorite.objects.create(user=fan, film_id=favourite)

    api.force_authenticate(fan)
    response = api.get(f"/api/content/{query}")

    marked = [{**item, "is_favorite": item["id"] == favourite} for item in items]
    expected = {**anonymous, "results": marked} if isinstance(anonymous, dict) else marked
    assert response.json() == expected
    assert [item["is_favorite"] for item in marked] == [True, False, False][: len(marked)]


def test_list_answers_from_the_database_when_the_cache_is_down(api: APIClient, settings) -> None:
    film = make_film()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    response = api.get("/api/content/")

    assert response.status_code == 200
    assert [i["id"] for i in response.json()] == [film.pk]


def test_cached_list_is_sent_gzipped_to_clients_that_accept_it(api: APIClient) -> None:
    import gzip

    make_film(title="Lighthouse")
    plain = api.get("/api/content/")

    zipped = api.get("/api/content/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    assert plain.json()[0]["title"] == "Lighthouse"
