"""The film admin: upload, list, actions, and the way to the RQ dashboard."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from affea.storage import s3_client
from content_app.models import Category, Film, ProcessingState, Rendition, RenditionStatus
from tests.content.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="staff@example.com", password="pw")
    client.force_login(user)
    return client


SUBTITLES_EMPTY = {
    "subtitles-TOTAL_FORMS": "0",
    "subtitles-INITIAL_FORMS": "0",
    "subtitles-MIN_NUM_FORMS": "0",
    "subtitles-MAX_NUM_FORMS": "1000",
}
INLINE_EMPTY = {
    **SUBTITLES_EMPTY,
    "renditions-TOTAL_FORMS": "0",
    "renditions-INITIAL_FORMS": "0",
    "renditions-MIN_NUM_FORMS": "0",
    "renditions-MAX_NUM_FORMS": "1000",
}


def _film(n: int, category: Category | None = None) -> Film:
    film = Film.objects.create(
        title=f"Film {n}",
        slug=f"film-{n}",
        category=category,
        processing_state=ProcessingState.READY,
        thumbnail=f"films/x/images/{n}.jpg",
    )
    for quality, height in (("120p", 120), ("360p", 360)):
        Rendition.objects.create(
            film=film, quality=quality, height=height, status=RenditionStatus.READY
        )
    return film


def test_changelist_query_count_does_not_grow_with_films(
    staff_client, django_assert_max_num_queries
):
    category = Category.objects.create(name="Drama", slug="drama")
    _film(1, category)
    url = reverse("admin:content_app_film_changelist")
    with django_assert_max_num_queries(12) as few:
        assert staff_client.get(url).status_code == 200
    for n in range(2, 12):
        _film(n, category)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = staff_client.get(url)
    assert response.status_code == 200


def test_changelist_shows_state_progress_and_ready_qualities(staff_client):
    film = _film(1)
    Film.objects.filter(pk=film.pk).update(
        processing_state=ProcessingState.PROCESSING, processing_progress=42
    )
    body = staff_client.get(reverse("admin:content_app_film_changelist")).content.decode()
    assert "processing 42%" in body
    assert "120p, 360p" in body


def test_changelist_search_and_state_filter(staff_client):
    _film(1)
    other = _film(2)
    Film.objects.filter(pk=other.pk).update(processing_state=ProcessingState.ERROR)
    url = reverse("admin:content_app_film_changelist")
    assert "Film 2" not in staff_client.get(url, {"q": "Film 1"}).content.decode()
    body = staff_client.get(url, {"processing_state__exact": "error"}).content.decode()
    assert "Film 2" in body
    assert "Film 1<" not in body


def _probe_jobs() -> list[str]:
    queue = django_rq.get_queue("high")
    return [job.id for job in queue.jobs if job.func_name == "content_app.tasks.probe_film"]


def test_upload_through_the_add_form_stores_under_a_generated_key(staff_client, make_video):
    with make_video().open("rb") as video:
        response = staff_client.post(
            reverse("admin:content_app_film_add"),
            {"title": "Uploaded", "slug": "", "source": video, **INLINE_EMPTY},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    film = Film.objects.get(title="Uploaded")
    assert film.slug == "uploaded"
    assert (film.source.name or "").startswith(f"films/{film.uuid}/source-")
    assert (film.processing_state, film.source_version) == (ProcessingState.PENDING, 1)


@pytest.mark.parametrize("spooled", [False, True], ids=["in memory", "spooled to disk"])
def test_a_form_upload_is_stored_byte_for_byte(staff_client, make_video, settings, spooled):
    # Django keeps small uploads in memory and spools larger ones to a temporary file, which
    # is sent to S3 from its path; both must arrive whole.
    if spooled:
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    path = make_video()
    with path.open("rb") as video:
        response = staff_client.post(
            reverse("admin:content_app_film_add"),
            {"title": "Whole", "slug": "whole", "source": video, **INLINE_EMPTY},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    film = Film.objects.get(slug="whole")
    stored = s3_client().get_object(
        Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=film.source.name or ""
    )
    assert stored["Body"].read() == path.read_bytes()
    assert stored["ContentType"] == "video/mp4"


def test_admin_upload_starts_processing_once(staff_client, make_video, run_jobs):
    with make_video().open("rb") as video:
        staff_client.post(
            reverse("admin:content_app_film_add"),
            {"title": "Once", "slug": "once", "source": video, **INLINE_EMPTY},
        )
    film = Film.objects.get(slug="once")
    assert _probe_jobs() == [f"film-{film.pk}-v1-probe"]
    run_jobs()  # the job the save enqueued finds processing of this source started
    film.refresh_from_db()
    assert (film.processing_state, film.source_version) == (ProcessingState.READY, 1)


def test_replacing_the_source_in_the_change_form_restarts_processing_once(
    staff_client, make_video, upload, run_jobs
):
    film = Film.objects.create(title="Swap", slug="swap", source=upload(make_video()))
    run_jobs()
    url = reverse("admin:content_app_film_change", args=[film.pk])
    with make_video(seconds=3.0).open("rb") as video:
        response = staff_client.post(
            url, {"title": "Swap", "slug": "swap", "source": video, **INLINE_EMPTY}
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _probe_jobs() == [f"film-{film.pk}-v2-probe"]
    run_jobs()
    film.refresh_from_db()
    assert (film.processing_state, film.source_version) == (ProcessingState.READY, 2)
    assert film.duration == pytest.approx(3.0, abs=0.2)


def test_upload_of_a_non_video_extension_is_refused_with_a_message(staff_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = staff_client.post(
        reverse("admin:content_app_film_add"),
        {
            "title": "Notes",
            "slug": "notes",
            "source": SimpleUploadedFile("notes.txt", b"hi"),
            **INLINE_EMPTY,
        },
    )
    assert response.status_code == 200
    assert "is not a video file type Affea accepts" in response.content.decode()
    assert not Film.objects.exists()


def test_editing_metadata_does_not_overwrite_processing_state(staff_client):
    film = _film(1)
    url = reverse("admin:content_app_film_change", args=[film.pk])
    Film.objects.filter(pk=film.pk).update(processing_progress=77)
    response = staff_client.post(
        url,
        {
            "title": "Renamed",
            "slug": "film-1",
            **SUBTITLES_EMPTY,
            "renditions-TOTAL_FORMS": "2",
            "renditions-INITIAL_FORMS": "2",
            "renditions-MIN_NUM_FORMS": "0",
            "renditions-MAX_NUM_FORMS": "1000",
            "renditions-0-id": str(film.renditions.get(quality="120p").pk),
            "renditions-0-film": str(film.pk),
            "renditions-1-id": str(film.renditions.get(quality="360p").pk),
            "renditions-1-film": str(film.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    film.refresh_from_db()
    assert film.title == "Renamed"
    assert film.processing_progress == 77
    assert [django_rq.get_queue(name).count for name in ("high", "default")] == [0, 0]


def test_change_form_shows_renditions_read_only(staff_client):
    film = _film(1)
    body = staff_client.get(reverse("admin:content_app_film_change", args=[film.pk])).content
    assert b"360p" in body
    assert b'name="renditions-0-quality"' not in body


def _action(client, action: str, films: list[Film]):
    return client.post(
        reverse("admin:content_app_film_changelist"),
        {"action": action, "_selected_action": [f.pk for f in films]},
        follow=True,
    )


def test_publish_and_unpublish_actions(staff_client):
    film = _film(1)
    _action(staff_client, "publish", [film])
    film.refresh_from_db()
    assert film.is_published
    first_published_at = film.published_at
    _action(staff_client, "unpublish", [film])
    film.refresh_from_db()
    assert not film.is_published
    _action(staff_client, "publish", [film])
    film.refresh_from_db()
    assert film.published_at == first_published_at


def test_actions_count_only_the_films_they_changed(staff_client):
    published, draft = _film(1), _film(2)
    _action(staff_client, "publish", [published])

    page = _action(staff_client, "publish", [published, draft]).content.decode()

    assert "Published 1 film(s)." in page
    assert "1 film(s) needed nothing: published already." in page


def test_view_only_staff_are_offered_no_upload_and_no_reprocess(client):
    film = _film(1)
    viewer = make_user(staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_film"))
    client.force_login(viewer)

    page = client.get(reverse("admin:content_app_film_change", args=[film.pk])).content.decode()

    assert "Processing now" in page  # what they may see, they see
    assert "Reprocess…" not in page
    assert "data-film-uploader" not in page


def test_reprocess_action_restarts_processing(staff_client, make_video, upload):
    film = Film.objects.create(title="Again", slug="again", source=upload(make_video()))
    django_rq.get_queue("high").empty()  # its saved-source job never ran
    response = _action(staff_client, "reprocess", [film])
    assert "Reprocessing 1 film(s)." in response.content.decode()
    film.refresh_from_db()
    assert film.source_version == 1
    assert _probe_jobs() == [f"film-{film.pk}-v1-probe"]


def test_reprocess_action_reports_a_film_without_source(staff_client):
    film = _film(1)
    response = _action(staff_client, "reprocess", [film])
    assert "has no source file to process" in response.content.decode()


def test_staff_reach_the_rq_dashboard_from_the_admin(staff_client):
    index = staff_client.get(reverse("admin:index")).content.decode()
    dashboard = reverse("admin:django_rq_dashboard_changelist")
    assert dashboard in index
    response = staff_client.get(dashboard)
    assert response.status_code == 200
    assert b"default" in response.content


@pytest.mark.parametrize("action", ["publish", "unpublish", "reprocess"])
def test_view_only_staff_cannot_run_the_actions_that_change_films(client, action):
    film = _film(1)
    if action == "unpublish":
        film.is_published, film.published_at = True, timezone.now()
        film.save()
    viewer = make_user(staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_film"))
    client.force_login(viewer)

    page = _action(client, action, [film])

    film.refresh_from_db()
    assert film.is_published == (action == "unpublish")
    assert f'value="{action}"' not in page.content.decode()


def test_publishing_outside_the_licence_window_is_refused_in_plain_words(staff_client):
    now = timezone.now()
    ended = _film(1)
    ended.licence_starts_at, ended.licence_ends_at = now - timedelta(days=10), now - timedelta(1)
    ended.save()
    coming = _film(2)
    coming.licence_starts_at = now + timedelta(days=10)
    coming.save()

    page = _action(staff_client, "publish", [ended, coming]).content.decode()

    assert "licence of “Film 1” ended on" in page
    assert "licence of “Film 2” starts on" in page
    assert not Film.objects.filter(is_published=True).exists()


def test_a_licence_ending_before_it_starts_is_a_field_error(staff_client):
    film = _film(1)
    response = staff_client.post(
        reverse("admin:content_app_film_change", args=[film.pk]),
        {
            "title": film.title,
            "slug": film.slug,
            "licence_starts_at_0": "2027-02-01",
            "licence_starts_at_1": "00:00:00",
            "licence_ends_at_0": "2027-01-01",
            "licence_ends_at_1": "00:00:00",
            **INLINE_EMPTY,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["licence_ends_at"] == [
        "The licence must end after it starts."
    ]


def test_a_slug_another_film_has_is_changed_and_staff_are_told(staff_client):
    _film(1)
    taken = Film.objects.get().slug

    page = staff_client.post(
        reverse("admin:content_app_film_add"),
        {"title": "Another", "slug": taken, **INLINE_EMPTY},
        follow=True,
    ).content.decode()

    film = Film.objects.get(title="Another")
    assert film.slug == f"{taken}-2"
    assert f"Another film already has the slug “{taken}”: this one is “{taken}-2”" in page


def test_a_slug_another_editor_takes_meanwhile_gives_the_next_free_one_not_an_error(
    staff_client, monkeypatch
):
    import threading

    from django.db import connections

    from content_app import admin as film_admin

    original = film_admin.FilmAdmin.save_model

    def racing(self, request, obj, form, change):
        # Another editor's film with the same slug, committed after this form was checked.
        def other() -> None:
            Film.objects.create(title="Other", slug=obj.slug)
            connections.close_all()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        return original(self, request, obj, form, change)

    monkeypatch.setattr(film_admin.FilmAdmin, "save_model", racing)
    response = staff_client.post(
        reverse("admin:content_app_film_add"),
        {"title": "Same", "slug": "same", **INLINE_EMPTY},
        follow=True,
    )

    assert response.status_code == 200
    assert Film.objects.get(title="Same").slug == "same-2"
    assert "Another film already has the slug “same”" in response.content.decode()
