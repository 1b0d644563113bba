"""The film admin's live status endpoint and what the change page shows of a film."""

from __future__ import annotations

import pytest
from django.urls import reverse

from content_app.models import Film, ProcessingState, Rendition, RenditionStatus
from tests.content.test_uploads import staff  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_status_says_state_percent_step_note_and_error(staff):  # noqa: F811
    running = Film.objects.create(
        title="Run", slug="run", source="films/x/source.mp4", duration=10.0,
        processing_state=ProcessingState.PROCESSING, processing_progress=41,
        processing_note="storage unreachable, retry 2 at 10:42",
    )  # fmt: skip
    Rendition.objects.create(film=running, quality="120p", height=120, status="ready")
    Rendition.objects.create(film=running, quality="360p", height=360, status="processing")
    failed = Film.objects.create(
        title="Bad", slug="bad", processing_state=ProcessingState.ERROR,
        processing_error="The file has no video stream (audio only or cover art only).",
    )  # fmt: skip
    url = reverse("admin:content_app_film_status")
    films = {f["id"]: f for f in staff.get(f"{url}?ids={running.pk},{failed.pk}").json()["films"]}
    assert films[running.pk] | {"in_progress": None} == {
        "id": running.pk, "state": "processing", "state_label": "Processing", "percent": 41,
        "step": "making 360p", "note": "storage unreachable, retry 2 at 10:42", "error": "",
        "on_air": {"version": 0, "qualities": ["120p"]}, "in_progress": None,
        "images_pending": [], "images_refused": {},
    }  # fmt: skip
    assert films[running.pk]["in_progress"]["renditions"] == [
        {"quality": "360p", "status": "processing", "error": ""}
    ]
    assert films[failed.pk]["error"].startswith("The file has no video stream")


def test_status_is_for_staff_only(client):
    Film.objects.create(title="Hidden", slug="hidden")
    response = client.get(reverse("admin:content_app_film_status") + "?ids=1")
    assert response.status_code == 302  # to the admin login


def test_change_page_shows_probe_rendition_sizes_timeline_and_reprocess(staff):  # noqa: F811
    film = Film.objects.create(
        title="Seen", slug="seen", source="films/x/source.mp4", duration=2.0,
        processing_state=ProcessingState.READY, processing_progress=100,
        source_probe={"container": "mov,mp4,m4a,3gp,3g2,mj2", "video_codec": "h264",
                      "width": 1056, "height": 576, "coded_width": 720, "coded_height": 576,
                      "sample_aspect_ratio": "16:11", "has_audio": True, "audio_channels": 6,
                      "audio_layout": "5.1", "duration": 2.0, "size": 2_500_000,
                      "color_transfer": "smpte2084"},
    )  # fmt: skip
    Rendition.objects.create(
        film=film, quality="360p", height=360, status=RenditionStatus.READY,
        size=1_234_567, bitrate=800_000,
    )  # fmt: skip
    page = staff.get(reverse("admin:content_app_film_change", args=[film.pk])).content.decode()
    for text in ("1056x576 (1.83:1)", "16:11", "HDR", "6 channel(s), 5.1", "2.5 MB",
                 "1.2 MB", "800 kbit/s", "Higher renditions (360p)", "Processing timeline",
                 "Reprocess reads the current source again", "data-film-uploader",
                 "vendor/uploader/uploader.js", "js/admin-status.js"):  # fmt: skip
        assert text in page, text


def test_reprocess_page_explains_then_restarts_processing(staff):  # noqa: F811
    film = Film.objects.create(
        title="Again", slug="again", source="films/x/source.mp4",
        processing_state=ProcessingState.READY,
    )  # fmt: skip
    url = reverse("admin:content_app_film_reprocess", args=[film.pk])
    assert "the current version stays on air" in staff.get(url).content.decode()
    assert staff.post(url).status_code == 302
    film.refresh_from_db()
    assert film.source_version == 1
    assert film.processing_state == ProcessingState.PENDING


def test_change_list_marks_each_state_for_live_updates(staff):  # noqa: F811
    film = Film.objects.create(title="Listed", slug="listed")
    page = staff.get(reverse("admin:content_app_film_changelist")).content.decode()
    assert f'data-film-status="{film.pk}"' in page
    assert "data-film-status-url" in page
