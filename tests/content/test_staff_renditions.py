"""Staff see what is on air apart from what is being made: the status JSON, the change list
and the change page agree, during a reprocess and after a replacement source fails."""

from __future__ import annotations

import django_rq
import pytest
from django.urls import reverse

from content_app import services
from content_app.models import Film, ProcessingState, RenditionStatus
from tests.content.test_uploads import staff  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _status(client, film: Film) -> dict:
    url = reverse("admin:content_app_film_status")
    [body] = client.get(f"{url}?ids={film.pk}").json()["films"]
    return body


def _page(client, film: Film) -> str:
    return client.get(reverse("admin:content_app_film_change", args=[film.pk])).content.decode()


def _changelist(client) -> str:
    return client.get(reverse("admin:content_app_film_changelist")).content.decode()


def test_during_a_reprocess_staff_see_the_version_on_air_apart_from_the_new_one(
    staff,  # noqa: F811
    make_video,
    upload,
    run_jobs,
):
    film = Film.objects.create(
        title="Swap", slug="swap", source=upload(make_video(width=640, height=360))
    )
    run_jobs()
    film.refresh_from_db()
    assert film.live_version == 1
    services.film_reprocess(film=film)
    # The new version's probe and lowest rung run; its higher rungs and images do not yet.
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=2, with_scheduler=False)
    film.refresh_from_db()
    assert (film.live_version, film.source_version) == (1, 2)
    ladder = list(
        film.renditions.filter(source_version=2).order_by("height").values_list("quality", "status")
    )
    assert ladder[0] == ("120p", RenditionStatus.READY)
    assert [quality for quality, _ in ladder] == ["120p", "360p"]
    assert ladder[1][1] != RenditionStatus.READY

    status = _status(staff, film)
    assert status["on_air"] == {"version": 1, "qualities": ["120p", "360p"]}
    assert status["in_progress"] == {
        "version": 2,
        "replaces_on_air": True,
        "failed": False,
        "renditions": [
            {"quality": quality, "status": value, "error": ""} for quality, value in ladder
        ],
    }
    summary = f"new source: 120p ready, 360p {ladder[1][1]}"
    assert summary in _changelist(staff)
    page = _page(staff, film)
    assert "On air: what viewers get (source version 1)" in page
    assert "New source (version 2)" in page
    assert "viewers keep getting the version above until every new rendition is ready" in page
    # The rows of the inline say which version each one is, too.
    assert page.count("v1 · on air") == 2
    assert page.count("v2 · current source, not on air yet") == 2

    run_jobs()
    film.refresh_from_db()
    assert (film.processing_state, film.live_version) == (ProcessingState.READY, 2)
    status = _status(staff, film)
    assert status["on_air"] == {"version": 2, "qualities": ["120p", "360p"]}
    assert status["in_progress"] is None
    assert "new source:" not in _changelist(staff)
    page = _page(staff, film)
    assert "On air: what viewers get (source version 2)" in page
    assert "New source (version" not in page
    assert "Being made (source version" not in page
    assert "v1 · " not in page


def test_a_failed_replacement_shows_the_old_version_still_on_air_and_the_new_one_failed(
    staff,  # noqa: F811
    make_video,
    upload,
    run_jobs,
):
    film = Film.objects.create(title="Keep", slug="keep", source=upload(make_video()))
    run_jobs()
    film.refresh_from_db()
    film.source = upload(content=b"not a video at all" * 64, name="broken.mp4")
    film.save()
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR
    assert (film.live_version, film.source_version) == (1, 2)

    status = _status(staff, film)
    assert status["error"].startswith("Reading the source:")
    assert status["on_air"] == {"version": 1, "qualities": ["120p"]}
    assert status["in_progress"] == {
        "version": 2,
        "replaces_on_air": True,
        "failed": True,
        "renditions": [],
    }
    changelist = _changelist(staff)
    assert "new source: failed" in changelist
    assert "error — Reading the source:" in changelist
    page = _page(staff, film)
    assert "On air: what viewers get (source version 1)" in page
    assert "Processing the new source failed" in page
    assert "viewers keep getting the version on air above" in page


def test_a_new_film_shows_nothing_on_air_and_its_first_version_being_made(
    staff,  # noqa: F811
    make_video,
    upload,
):
    film = Film.objects.create(title="Fresh", slug="fresh", source=upload(make_video()))
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=2, with_scheduler=False)  # the saved source, the probe
    film.refresh_from_db()
    assert (film.live_version, film.source_version) == (0, 1)

    status = _status(staff, film)
    assert status["on_air"] == {"version": None, "qualities": []}
    assert status["in_progress"]["replaces_on_air"] is False
    assert [r["quality"] for r in status["in_progress"]["renditions"]] == ["120p"]
    assert "new source:" not in _changelist(staff)
    page = _page(staff, film)
    assert "Nothing yet: viewers cannot play the film until its first rendition is ready." in page
    assert "Being made (source version 1)" in page
