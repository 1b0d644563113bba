"""HLS: master and variant playlists over real packaged renditions in the test S3."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from content_app import hls
from content_app.hls import mp4_codecs, parse_media_playlist
from tests.content.factories import CLIP_SECONDS, make_film, make_user, packaged

MASTER = "/api/content/{}/hls/master.m3u8"


@pytest.fixture
def viewer_api() -> APIClient:
    api = APIClient()
    api.force_authenticate(make_user())
    return api


def _variant_uris(master: str) -> list[str]:
    return [line for line in master.splitlines() if line and not line.startswith("#")]


def _variant_path(film_id: int, uri: str) -> str:
    return f"/api/content/{film_id}/hls/{uri}"


@pytest.mark.django_db
def test_master_lists_every_ready_rendition_with_bandwidth_resolution_codecs(
    viewer_api: APIClient,
) -> None:
    film = make_film(qualities=("120p", "360p"), upload=True)

    response = viewer_api.get(MASTER.format(film.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
    assert response["Cache-Control"] == "private, no-store"
    text = response.content.decode()
    infs = [line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF:")]
    assert len(infs) == 2
    assert "RESOLUTION=212x120" in infs[0]
    assert "RESOLUTION=640x360" in infs[1]
    for inf in infs:
        assert re.search(r"BANDWIDTH=\d+", inf)
        assert re.search(r'CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"', inf)
    uris = _variant_uris(text)
    assert [u.split("?token=")[0] for u in uris] == ["120p.m3u8", "360p.m3u8"]


@pytest.mark.django_db
def test_master_leaves_out_renditions_that_are_not_ready(viewer_api: APIClient) -> None:
    film = make_film(qualities=("120p", "360p"), upload=True)
    film.renditions.filter(quality="360p").update(status="processing")

    text = viewer_api.get(MASTER.format(film.pk)).content.decode()

    assert [u.split("?")[0] for u in _variant_uris(text)] == ["120p.m3u8"]


@pytest.mark.django_db
def test_master_needs_a_viewer_and_a_visible_film(viewer_api: APIClient) -> None:
    film = make_film()
    hidden = make_film(published=False)

    assert APIClient().get(MASTER.format(film.pk)).status_code == 401
    assert viewer_api.get(MASTER.format(hidden.pk)).status_code == 404


@pytest.mark.django_db
def test_variant_points_at_the_fmp4_with_byte_ranges_that_s3_serves(
    viewer_api: APIClient,
) -> None:
    film = make_film(qualities=("360p",), upload=True)
    [uri] = _variant_uris(viewer_api.get(MASTER.format(film.pk)).content.decode())

    response = Client().get(_variant_path(film.pk, uri))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    text = response.content.decode()
    assert "#EXT-X-ENDLIST" in text
    init_match = re.search(r'#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+)@(\d+)"', text)
    assert init_match
    ranges = [tuple(map(int, r)) for r in re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)", text)]
    assert len(ranges) == 2
    media_url = _variant_uris(text)[0]
    for length, offset in [(int(init_match[2]), int(init_match[3])), *ranges]:
        part = requests.get(
            media_url, headers={"Range": f"bytes={offset}-{offset + length - 1}"}, timeout=10
        )
        assert part.status_code == 206
        assert len(part.content) == length


@pytest.mark.django_db
def test_variant_with_a_tampered_token_is_403(viewer_api: APIClient) -> None:
    film = make_film(upload=True)
    [uri] = _variant_uris(viewer_api.get(MASTER.format(film.pk)).content.decode())

    tampered = uri[:-2] + ("xx" if not uri.endswith("xx") else "yy")

    assert Client().get(_variant_path(film.pk, tampered)).status_code == 403
    assert Client().get(_variant_path(film.pk, "360p.m3u8")).status_code == 403


@pytest.mark.django_db
def test_variant_with_an_expired_token_is_403() -> None:
    film = make_film(upload=True)
    user = make_user()
    token = hls.variant_token(
        film_id=film.pk, user_id=user.pk, expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = Client().get(_variant_path(film.pk, f"360p.m3u8?token={token}"))

    assert response.status_code == 403


@pytest.mark.django_db
def test_variant_token_is_bound_to_its_film(viewer_api: APIClient) -> None:
    film, other = make_film(upload=True), make_film(upload=True)
    [uri] = _variant_uris(viewer_api.get(MASTER.format(film.pk)).content.decode())

    assert Client().get(_variant_path(other.pk, uri)).status_code == 403


@pytest.mark.django_db
def test_variant_of_a_film_taken_down_after_the_master_is_404(viewer_api: APIClient) -> None:
    film = make_film(upload=True)
    [uri] = _variant_uris(viewer_api.get(MASTER.format(film.pk)).content.decode())
    film.taken_down_at = timezone.now()
    film.save()

    assert Client().get(_variant_path(film.pk, uri)).status_code == 404


def test_playlist_parser_reads_ffmpeg_single_file_packaging() -> None:
    (init_length, init_offset), segments = parse_media_playlist(
        packaged("120p").playlist.read_text()
    )

    assert init_offset == 0
    assert segments[0].offset == init_length
    assert sum(s.duration for s in segments) == pytest.approx(CLIP_SECONDS, abs=0.1)


def test_codecs_are_read_from_the_init_section() -> None:
    files = packaged("360p")
    (length, offset), _ = parse_media_playlist(files.playlist.read_text())

    codecs, width, height = mp4_codecs(files.media.read_bytes()[offset : offset + length])

    assert re.fullmatch(r"avc1\.64[0-9a-f]{4},mp4a\.40\.2", codecs)  # libx264 High profile
    assert (width, height) == (640, 360)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ffmpeg_plays_the_master_playlist_end_to_end(live_server, client: Client) -> None:
    user = make_user()
    film = make_film(qualities=("120p", "360p"), upload=True)
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    result = subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-v", "verbose", "-nostdin",
            "-headers", f"Cookie: {cookie}\r\n",
            "-i", live_server.url + MASTER.format(film.pk),
            "-map", "0:v:0", "-map", "0:a:0", "-f", "null", "-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stderr
    requested = set(re.findall(r"HLS request for url '[^']*', offset (\d+)", log))
    _, segments = parse_media_playlist(packaged("120p").playlist.read_text())
    assert {str(s.offset) for s in segments} <= requested
    decoded = re.findall(r"time=(\d+):(\d+):(\d+\.\d+)", log)[-1]
    seconds = int(decoded[0]) * 3600 + int(decoded[1]) * 60 + float(decoded[2])
    assert seconds == pytest.approx(CLIP_SECONDS, abs=0.2)
