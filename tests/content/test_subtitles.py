"""Subtitles: admin uploads (SRT converted to WebVTT), the HLS master, the API, the page."""

from __future__ import annotations

import re

import pytest
import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from content_app.models import Film, Rendition, Subtitle
from content_app.subtitles import language_tag
from tests.content.factories import make_film, make_user

pytestmark = pytest.mark.django_db

SRT = (
    b"1\n00:00:00,500 --> 00:00:03,000\nHello from the harbour\n\n"
    b"2\n00:00:03,500 --> 00:00:05,000\nGoodbye\n"
)
VTT = b"WEBVTT\n\n00:00:00.500 --> 00:00:03.000\nBonjour du port\n"


def add_subtitle(
    film: Film, language: str = "en", label: str = "English", body: bytes = VTT
) -> Subtitle:
    subtitle = Subtitle(film=film, language=language, label=label)
    subtitle.file.save("subtitles.vtt", ContentFile(body), save=False)
    subtitle.save()
    return subtitle


def _inline(upload: SimpleUploadedFile, film: Film) -> dict[str, object]:
    return {
        "title": film.title,
        "slug": film.slug,
        "subtitles-TOTAL_FORMS": "1",
        "subtitles-INITIAL_FORMS": "0",
        "subtitles-MIN_NUM_FORMS": "0",
        "subtitles-MAX_NUM_FORMS": "1000",
        "subtitles-0-language": "en",
        "subtitles-0-label": "English",
        "subtitles-0-file": upload,
        "renditions-TOTAL_FORMS": "0",
        "renditions-INITIAL_FORMS": "0",
        "renditions-MIN_NUM_FORMS": "0",
        "renditions-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def staff_client(client: Client, django_user_model) -> Client:
    client.force_login(
        django_user_model.objects.create_superuser(email="s@example.com", password="pw")
    )
    return client


def _post_change_form(
    staff_client: Client, film: Film, upload: SimpleUploadedFile, language: str = "en"
) -> str:
    form = staff_client.get(reverse("admin:content_app_film_change", args=[film.pk]))
    data = {**_inline(upload, film), "subtitles-0-language": language}
    # Inlines that other apps add to the film admin come with their own empty management forms.
    for prefix in set(re.findall(r'name="([\w-]+)-TOTAL_FORMS"', form.content.decode())):
        data.setdefault(f"{prefix}-TOTAL_FORMS", "0")
        data.setdefault(f"{prefix}-INITIAL_FORMS", "0")
    response = staff_client.post(reverse("admin:content_app_film_change", args=[film.pk]), data)
    return response.content.decode() if response.status_code == 200 else ""


def test_admin_converts_an_srt_upload_to_webvtt_in_storage(staff_client: Client) -> None:
    film = make_film()

    errors = _post_change_form(staff_client, film, SimpleUploadedFile("en.srt", SRT))

    assert errors == ""
    subtitle = Subtitle.objects.get(film=film)
    name = str(subtitle.file.name)
    assert name.endswith(".vtt")
    stored = default_storage.open(name).read().decode()
    assert stored.startswith("WEBVTT")
    assert "00:00:00.500 --> 00:00:03.000\nHello from the harbour" in stored


def test_admin_refuses_a_file_that_is_not_subtitles_with_a_clear_error(
    staff_client: Client,
) -> None:
    film = make_film()

    page = _post_change_form(staff_client, film, SimpleUploadedFile("en.srt", b"just some words"))

    assert "This is not a valid SRT file" in page
    assert not Subtitle.objects.exists()


def test_admin_refuses_an_srt_cue_whose_text_holds_an_arrow_with_a_clear_error(
    staff_client: Client,
) -> None:
    film = make_film()
    body = b"1\n00:00:01,000 --> 00:00:02,000\nfoo --> bar\n\n"

    page = _post_change_form(staff_client, film, SimpleUploadedFile("en.srt", body))

    assert "This is not a valid SRT file" in page
    assert not Subtitle.objects.exists()


def test_master_playlist_lists_subtitles_whose_playlist_points_at_a_signed_vtt(
    client: Client,
) -> None:
    user = make_user()
    film = make_film()
    add_subtitle(film, "fr", "Français")
    client.force_login(user)

    master = client.get(f"/api/content/{film.pk}/hls/master.m3u8").content.decode()

    media = next(line for line in master.splitlines() if line.startswith("#EXT-X-MEDIA:"))
    assert 'TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr"' in media
    assert 'SUBTITLES="subs"' in master
    uri = media.split('URI="')[1].rstrip('"')
    playlist = client.get(uri).content.decode()
    assert "#EXT-X-ENDLIST" in playlist
    vtt_url = next(line for line in playlist.splitlines() if line.startswith("http"))
    vtt = requests.get(vtt_url, timeout=5)
    assert vtt.status_code == 200
    assert vtt.headers["Content-Type"] == "text/vtt"
    assert "Bonjour du port" in vtt.text


def test_subtitle_playlist_refuses_a_bad_token(client: Client) -> None:
    film = make_film()
    add_subtitle(film)

    response = client.get(f"/films/{film.pk}/subtitles/en.m3u8", {"token": "forged"})

    assert response.status_code == 403


def test_subtitle_playlist_of_a_language_no_track_can_have_is_not_found(client: Client) -> None:
    film = make_film(public_playback=True)
    add_subtitle(film)
    master = client.get(f"/api/content/{film.pk}/hls/master.m3u8").content.decode()
    token = re.search(r"token=([^\"\s]+)", master)
    assert token is not None

    for language in ("%00", "en%00", "fr"):  # NUL: PostgreSQL text cannot even hold it
        response = client.get(f"/films/{film.pk}/subtitles/{language}.m3u8?token={token[1]}")
        assert response.status_code == 404, language
    assert client.get(f"/films/{film.pk}/subtitles/en.m3u8?token={token[1]}").status_code == 200


def test_api_film_item_lists_subtitles_with_signed_urls(client: Client) -> None:
    film = make_film()
    add_subtitle(film, "en", "English")

    item = client.get(f"/api/content/{film.pk}/").json()

    assert [(s["language"], s["label"]) for s in item["subtitles"]] == [("en", "English")]
    assert "X-Amz-Signature=" in item["subtitles"][0]["url"]


def test_api_list_reads_subtitles_in_one_query_whatever_their_number(client: Client) -> None:
    add_subtitle(make_film())
    with CaptureQueriesContext(connection) as one:
        client.get("/api/content/", {"search": "film"})
    for _ in range(10):
        film = make_film()
        add_subtitle(film, "en")
        add_subtitle(film, "fr", "Français")
    with CaptureQueriesContext(connection) as many:
        client.get("/api/content/", {"search": "film"})
    # Films being reprocessed (no duration until the new probe) sign for what is on air.
    reprocessed = []
    for _ in range(5):
        film = make_film(duration=None)
        Rendition.objects.filter(film=film).update(
            hls_segments=[[4.0, 1000, 0]] * 900, seconds=3600.0
        )
        add_subtitle(film, "en")
        reprocessed.append(film.pk)
    with CaptureQueriesContext(connection) as unprobed:
        items = client.get("/api/content/", {"search": "film"}).json()

    assert len(many) == len(one)
    assert len(unprobed) == len(one)
    hour = settings.AWS_QUERYSTRING_EXPIRE + 3600
    signed = [item["subtitles"][0]["url"] for item in items if item["id"] in reprocessed]
    assert len(signed) == len(reprocessed)
    assert all(f"X-Amz-Expires={hour}" in url for url in signed)


def test_film_page_offers_subtitle_tracks_for_progressive_playback(client: Client) -> None:
    film = make_film(public_playback=True)
    add_subtitle(film, "en", "English")

    page = client.get(f"/films/{film.slug}/").content.decode()

    assert '<script id="player-tracks" type="application/json">' in page
    assert '"language": "en"' in page


def _reversed(start: str) -> str:
    """The refusal of a cue from `start` to 2 s, as the admin page shows it (HTML-escaped)."""
    return f"Cue 1 ({start} --&gt; 00:00:02.000) ends before it starts."


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("en.srt", b"1\n00:00:05,000 --> 00:00:02,000\nHi\n", _reversed("00:00:05.000")),
        # 99 seconds are read as 1:39: the cue then starts after its end.
        ("en.srt", b"1\n00:00:99,000 --> 00:00:02,000\nHi\n", _reversed("00:01:39.000")),
        ("en.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\x00there\n", "NUL character"),
    ],
)
def test_admin_refuses_cues_no_player_would_show(
    staff_client: Client, name: str, body: bytes, reason: str
) -> None:
    film = make_film()

    page = _post_change_form(staff_client, film, SimpleUploadedFile(name, body))

    assert reason in page
    assert not Subtitle.objects.exists()


@pytest.mark.parametrize(
    ("typed", "stored"), [("PT-br", "pt-BR"), ("zh-hant-tw", "zh-Hant-TW"), ("EN", "en")]
)
def test_a_language_code_is_stored_in_its_usual_case(typed: str, stored: str) -> None:
    assert language_tag(typed) == stored


@pytest.mark.parametrize("typed", ["pt/BR", "english", "e", "en-", "en us", "fr-²"])
def test_a_language_that_is_no_bcp_47_code_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError, match="BCP 47"):
        language_tag(typed)


def test_admin_refuses_a_language_the_master_playlist_could_not_name(
    staff_client: Client,
) -> None:
    # "pt/BR" was saved, and then every viewer's HLS master answered 500.
    film = make_film()

    page = _post_change_form(staff_client, film, SimpleUploadedFile("pt.vtt", VTT), "pt/BR")

    assert "Use a BCP 47 language code" in page
    assert not Subtitle.objects.exists()
