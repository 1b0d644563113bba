"""Staff images never stay pending for good: a re-encoding Redis lost is enqueued again by the
reconciler, and an upload the worker refuses is shown to staff with the reason."""

from __future__ import annotations

import io
from datetime import timedelta

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rq.job import JobStatus

from content_app import pipeline
from content_app.media import objects
from content_app.models import Film
from content_app.pipeline.images import image_job_id
from tests.content.test_images import _change, _photo, staff_client  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _settled(film: Film) -> None:
    """Age the film's last save past the reconciler's settling time."""
    Film.objects.filter(pk=film.pk).update(updated_at=timezone.now() - timedelta(hours=1))


def _truncated_jpeg() -> bytes:
    """A JPEG whose header is whole (the admin's check passes) and whose picture is cut off."""
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (10, 200, 30)).save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    return data[: len(data) // 2]


def _poster(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("poster.jpg", data, content_type="image/jpeg")


def _high_job_ids() -> list[str]:
    return django_rq.get_queue("high").job_ids


def test_a_pending_image_whose_job_redis_lost_is_re_encoded_once_after_reconciling(
    staff_client,  # noqa: F811
    run_jobs,
    redis_connection,
):
    film = Film.objects.create(title="Lost poster", slug="lost-poster")
    assert _change(staff_client, film, poster=_poster(_photo())).status_code == 302
    film.refresh_from_db()
    uploaded = film.images_pending["poster"]
    job_id = image_job_id(film.pk, "poster", uploaded)
    assert _high_job_ids() == [job_id]

    redis_connection.flushdb()
    _settled(film)
    assert pipeline.films_reconcile() == [f"film {film.pk}: re-enqueued poster re-encoding"]
    # Queued again under the upload's own id: a second pass finds it and adds nothing.
    assert pipeline.films_reconcile() == []
    assert _high_job_ids() == [job_id]

    run_jobs()
    film.refresh_from_db()
    assert film.images_pending == {}
    assert (film.poster.name or "").startswith(f"films/{film.uuid}/images/staff-poster-")
    assert objects.list_keys(pipeline.film_prefix(film)) == [film.poster.name]


def test_the_reconciler_leaves_a_just_saved_upload_to_its_own_job(
    staff_client,  # noqa: F811
    redis_connection,
):
    film = Film.objects.create(title="Fresh poster", slug="fresh-poster")
    assert _change(staff_client, film, poster=_poster(_photo())).status_code == 302
    redis_connection.flushdb()
    assert pipeline.films_reconcile() == []  # within the settling time of the save


def test_an_image_the_worker_refuses_is_shown_on_the_change_page_with_the_reason(
    staff_client,  # noqa: F811
    run_jobs,
):
    film = Film.objects.create(title="Refused", slug="refused")
    assert _change(staff_client, film, poster=_poster(_photo())).status_code == 302
    run_jobs()
    film.refresh_from_db()
    shown = film.poster.name
    assert shown

    assert _change(staff_client, film, poster=_poster(_truncated_jpeg())).status_code == 302
    page_url = reverse("admin:content_app_film_change", args=[film.pk])
    assert "The new poster is being re-encoded" in staff_client.get(page_url).content.decode()
    run_jobs()
    film.refresh_from_db()
    # The previous poster stays on show; the refused upload is gone from the bucket.
    assert film.poster.name == shown
    assert film.images_pending == {}
    assert objects.list_keys(pipeline.film_prefix(film)) == [shown]
    reason = "The image could not be decoded; upload it again."
    assert film.images_refused == {"poster": reason}
    assert film.processing_note == ""
    page = staff_client.get(page_url).content.decode()
    assert (
        f'<p class="errornote film-image-notice" data-image-field="poster">The poster you '
        f"uploaded was refused: {reason} The previous poster is still shown.</p>"
    ) in page
    status_url = reverse("admin:content_app_film_status")
    [status] = staff_client.get(f"{status_url}?ids={film.pk}").json()["films"]
    assert status["images_refused"] == {"poster": reason}

    # The next upload answers the refusal.
    assert _change(staff_client, film, poster=_poster(_photo())).status_code == 302
    film.refresh_from_db()
    assert film.images_refused == {}
    assert "was refused" not in staff_client.get(page_url).content.decode()


def test_an_upload_whose_re_encoding_rq_gave_up_on_is_refused_in_plain_words(
    staff_client,  # noqa: F811
):
    film = Film.objects.create(title="Given up", slug="given-up")
    assert _change(staff_client, film, poster=_poster(_photo())).status_code == 302
    film.refresh_from_db()
    uploaded = film.images_pending["poster"]
    queue = django_rq.get_queue("high")
    job = queue.fetch_job(image_job_id(film.pk, "poster", uploaded))
    assert job is not None
    # What RQ records once the last retry failed (every attempt found S3 down, say).
    queue.remove(job)
    job.set_status(JobStatus.FAILED)
    _settled(film)

    assert pipeline.films_reconcile() == [
        f"film {film.pk}: poster re-encoding given up by RQ, upload refused"
    ]
    film.refresh_from_db()
    assert film.images_pending == {}
    assert film.images_refused["poster"].startswith(
        "The worker could not re-encode this image on any attempt"
    )
    assert objects.list_keys(pipeline.film_prefix(film)) == []
