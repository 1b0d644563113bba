"""One visibility rule: a film a viewer may not see is absent or 404 on every viewer path.

Each way a film can be hidden is one entry of HIDDEN; each viewer path is one entry of
PATHS. A new condition of the rule (say, a legal takedown) is one more line in HIDDEN,
and this module proves it on every path, API and pages alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from content_app import services
from content_app.catalogue_cache import catalogue_changed
from content_app.models import Favorite, Film, Rendition, RenditionStatus, WatchProgress
from tests.content.factories import make_category, make_film, make_user
from tests.legal.dmca_support import notice_accept_naming
from users_app.models import User

pytestmark = pytest.mark.django_db


def _unpublish(film: Film) -> None:
    services.film_unpublish(film=film)


def _make_unplayable(film: Film) -> None:
    Rendition.objects.filter(film=film).update(status=RenditionStatus.ERROR)
    catalogue_changed()


def _take_down(film: Film) -> None:
    notice_accept_naming(film)


def _licence_ended(film: Film) -> None:
    # The licence job has not run yet: the window alone hides the film.
    now = timezone.now()
    Film.objects.filter(pk=film.pk).update(
        licence_starts_at=now - timedelta(days=30), licence_ends_at=now - timedelta(seconds=1)
    )
    catalogue_changed()  # cached lists live a minute at most; here they are dropped at once


HIDDEN: dict[str, Callable[[Film], None]] = {
    "unpublished": _unpublish,
    "nothing playable": _make_unplayable,
    "taken down": _take_down,
    "licence ended": _licence_ended,
}


class Viewer:
    """A signed-in viewer with an API client and a page client, and the films they know."""

    def __init__(self, user: User, shown: Film, hidden: Film, variant_uri: str) -> None:
        self.user, self.shown, self.hidden, self.variant_uri = user, shown, hidden, variant_uri
        self.api = APIClient()
        self.api.force_authenticate(user)
        self.pages = Client()
        self.pages.force_login(user)


def _ids(items: list[dict[str, object]] | dict[str, object]) -> set[object]:
    results = items["results"] if isinstance(items, dict) else items
    assert isinstance(results, list)
    return {item["id"] for item in results}


def _listed(path: str, query: dict[str, str] | None = None) -> Callable[[Viewer, Film], bool]:
    def check(viewer: Viewer, film: Film) -> bool:
        response = viewer.api.get(path, query or {})
        assert response.status_code == 200
        return film.pk in _ids(response.json())

    return check


def _answers(path: str) -> Callable[[Viewer, Film], bool]:
    def check(viewer: Viewer, film: Film) -> bool:
        response = viewer.api.get(path.format(id=film.pk))
        assert response.status_code in (200, 404), response.content
        return response.status_code == 200

    return check


def _favorite_toggle(viewer: Viewer, film: Film) -> bool:
    response = viewer.api.post("/api/content/add-favorite/", {"video_id": film.pk}, format="json")
    assert response.status_code in (200, 404)
    return response.status_code == 200


def _progress(viewer: Viewer, film: Film) -> bool:
    response = viewer.api.put(f"/api/content/{film.pk}/progress/", {"position": 1}, format="json")
    assert response.status_code in (204, 404)
    return response.status_code == 204


def _variant_handed_out_earlier(viewer: Viewer, film: Film) -> bool:
    uri = viewer.variant_uri if film == viewer.hidden else _variant_uri(viewer.api, film)
    response = Client().get(f"/api/content/{film.pk}/hls/{uri}")
    assert response.status_code in (200, 403, 404)
    return response.status_code == 200


def _page_lists(path: str) -> Callable[[Viewer, Film], bool]:
    def check(viewer: Viewer, film: Film) -> bool:
        response = viewer.pages.get(path.format(title=film.title))
        assert response.status_code == 200
        return f'href="/films/{film.slug}/"' in response.content.decode()

    return check


def _page_answers(path: str, method: str = "get") -> Callable[[Viewer, Film], bool]:
    def check(viewer: Viewer, film: Film) -> bool:
        response = getattr(viewer.pages, method)(path.format(slug=film.slug))
        assert response.status_code in (200, 302, 404)
        return response.status_code != 404

    return check


PATHS: dict[str, Callable[[Viewer, Film], bool]] = {
    "api list": _listed("/api/content/"),
    "api list page": _listed("/api/content/", {"page": "1"}),
    "api search": _listed("/api/content/", {"search": "lantern"}),
    "api category": _listed("/api/content/", {"category": "drama"}),
    "api favourites": _listed("/api/content/favorites/"),
    "api continue watching": _listed("/api/content/continue-watching/"),
    "api detail": _answers("/api/content/{id}/"),
    "api video-url": _answers("/api/content/video-url/{id}/"),
    "api hls master": _answers("/api/content/{id}/hls/master.m3u8"),
    "api hls variant handed out earlier": _variant_handed_out_earlier,
    "api add favourite": _favorite_toggle,
    "api progress": _progress,
    "page catalogue": _page_lists("/"),
    "page search": _page_lists("/?q=lantern"),
    "page category": _page_lists("/?category=drama"),
    "page favourites": _page_lists("/favorites/"),
    "page continue watching": _page_lists("/continue-watching/"),
    "page film": _page_answers("/films/{slug}/"),
    "page favourite button": _page_answers("/films/{slug}/favorite/", method="post"),
}


def _variant_uri(api: APIClient, film: Film) -> str:
    master = api.get(f"/api/content/{film.pk}/hls/master.m3u8")
    assert master.status_code == 200
    return next(line for line in master.content.decode().splitlines() if ".m3u8?" in line)


def _known_film(user: User, title: str) -> Film:
    film = make_film(title=title, category=make_category("Drama"), duration=60, upload=True)
    Favorite.objects.create(user=user, film=film)
    WatchProgress.objects.create(user=user, film=film, position=10)
    return film


@pytest.fixture
def viewer() -> Viewer:
    user = make_user()
    shown = _known_film(user, "Lantern shown")
    hidden = _known_film(user, "Lantern hidden")
    WatchProgress.objects.filter(film=shown).update(updated_at=timezone.now() + timedelta(1))
    api = APIClient()
    api.force_authenticate(user)
    return Viewer(user, shown, hidden, _variant_uri(api, hidden))


@pytest.mark.parametrize("how", list(HIDDEN))
@pytest.mark.parametrize("path", list(PATHS))
def test_a_hidden_film_is_absent_or_404_on_every_viewer_path(
    viewer: Viewer, how: str, path: str
) -> None:
    check = PATHS[path]
    assert check(viewer, viewer.hidden), "the film is visible before it is hidden"

    HIDDEN[how](viewer.hidden)

    assert not check(viewer, viewer.hidden)
    assert check(viewer, viewer.shown)


@pytest.mark.parametrize("how", list(HIDDEN))
def test_staff_still_see_a_hidden_film(how: str) -> None:
    film = make_film(title="Lantern staff")
    HIDDEN[how](film)
    staff = APIClient()
    staff.force_authenticate(make_user(staff=True))

    assert staff.get(f"/api/content/{film.pk}/").status_code == 200
    assert film.pk in _ids(staff.get("/api/content/").json())
