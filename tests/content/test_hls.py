"""HLS: master and variant playlists over real packaged renditions in the test S3."""

from __future__ import annotations

import base64
import math
import re
import subprocess
from datetime import timedelta

import pytest
import redis
import requests
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from content_app import hls
from content_app.media.packaging import parse_playlist
from content_app.models import Film
from content_app.playback import playback_ttl
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


def _master(api: APIClient, film: Film) -> str:
    response = api.get(MASTER.format(film.pk))
    assert response.status_code == 200, response.content
    return response.content.decode()


@pytest.mark.django_db
def test_master_lists_every_ready_rendition_from_its_stored_packaging(
    viewer_api: APIClient,
) -> None:
    film = make_film(qualities=("360p", "120p"), upload=True)

    response = viewer_api.get(MASTER.format(film.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
    assert response["Cache-Control"] == "private, no-store"
    text = response.content.decode()
    infs = [line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF:")]
    low, high = film.renditions.get(quality="120p"), film.renditions.get(quality="360p")
    for inf, rendition in zip(infs, (low, high), strict=True):
        assert f"BANDWIDTH={rendition.hls_bandwidth}," in inf
        assert f"AVERAGE-BANDWIDTH={rendition.hls_average_bandwidth}," in inf
        assert f"RESOLUTION={rendition.width}x{rendition.height}," in inf
        assert f'CODECS="{rendition.hls_codecs}"' in inf
        assert re.search(r'CODECS="avc1\.64[0-9a-f]{4},mp4a\.40\.2"', inf)
    assert (low.width, low.height, high.width, high.height) == (214, 120, 640, 360)
    assert [u.split("?token=")[0] for u in _variant_uris(text)] == ["120p.m3u8", "360p.m3u8"]


@pytest.mark.django_db
def test_master_and_variant_read_nothing_from_storage(viewer_api: APIClient) -> None:
    film = make_film(qualities=("120p", "360p"), upload=False)  # no objects in the bucket

    [low, _] = _variant_uris(_master(viewer_api, film))

    assert Client().get(_variant_path(film.pk, low)).status_code == 200


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
def test_master_leaves_out_a_ready_rendition_made_before_packaging_was_stored(
    viewer_api: APIClient,
) -> None:
    film = make_film(qualities=("120p", "360p"), upload=True)
    film.renditions.filter(quality="360p").update(
        hls_codecs="", hls_bandwidth=None, hls_init_length=None, hls_segments=[]
    )

    text = _master(viewer_api, film)

    assert [u.split("?")[0] for u in _variant_uris(text)] == ["120p.m3u8"]
    video = viewer_api.get(f"/api/content/video-url/{film.pk}/", {"quality": "360p"})
    assert video.status_code == 200


@pytest.mark.django_db
def test_master_without_any_stored_packaging_is_404(viewer_api: APIClient) -> None:
    film = make_film(qualities=("120p",))
    film.renditions.update(hls_codecs="", hls_segments=[])

    assert viewer_api.get(MASTER.format(film.pk)).status_code == 404


def _byte_ranges(variant: str) -> list[tuple[int, int]]:
    init = re.search(r'#EXT-X-MAP:URI="[^"]+",BYTERANGE="(\d+)@(\d+)"', variant)
    assert init
    ranges = re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)", variant)
    return [(int(init[1]), int(init[2])), *((int(n), int(o)) for n, o in ranges)]


@pytest.mark.django_db
def test_variant_byte_ranges_are_the_ones_ffmpeg_wrote(viewer_api: APIClient) -> None:
    film = make_film(qualities=("360p",), upload=True)
    [uri] = _variant_uris(_master(viewer_api, film))

    text = Client().get(_variant_path(film.pk, uri)).content.decode()

    written = parse_playlist(packaged("360p").playlist.read_text())
    assert _byte_ranges(text) == [
        (written.init_length, written.init_offset),
        *((s.length, s.offset) for s in written.segments),
    ]
    durations = [float(d) for d in re.findall(r"#EXTINF:([\d.]+),", text)]
    assert durations == pytest.approx([s.duration for s in written.segments])


@pytest.mark.django_db
def test_variant_points_at_the_fmp4_with_byte_ranges_that_s3_serves(
    viewer_api: APIClient,
) -> None:
    film = make_film(qualities=("360p",), upload=True)
    [uri] = _variant_uris(_master(viewer_api, film))

    response = Client().get(_variant_path(film.pk, uri))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    text = response.content.decode()
    data = packaged("360p").media.read_bytes()
    [media_url] = set(_variant_uris(text))
    for length, offset in _byte_ranges(text):
        part = requests.get(
            media_url, headers={"Range": f"bytes={offset}-{offset + length - 1}"}, timeout=10
        )
        assert part.status_code == 206
        assert part.content == data[offset : offset + length]


@pytest.mark.django_db
def test_variant_is_a_vod_playlist_as_hls_js_reads_it(viewer_api: APIClient) -> None:
    film = make_film(qualities=("120p",), upload=True)
    [uri] = _variant_uris(_master(viewer_api, film))

    lines = Client().get(_variant_path(film.pk, uri)).content.decode().splitlines()

    assert lines[0] == "#EXTM3U"
    assert lines[-1] == "#EXT-X-ENDLIST"
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    [target] = [int(x.split(":")[1]) for x in lines if x.startswith("#EXT-X-TARGETDURATION:")]
    durations = [float(x[8:].rstrip(",")) for x in lines if x.startswith("#EXTINF:")]
    assert target >= max(math.ceil(d) for d in durations)
    # The init section is declared before the first segment, and every URI is absolute.
    assert next(i for i, x in enumerate(lines) if x.startswith("#EXT-X-MAP:")) < next(
        i for i, x in enumerate(lines) if x.startswith("#EXTINF:")
    )
    assert all(u.startswith("http") for u in _variant_uris("\n".join(lines)))


@pytest.fixture
def redis_down(settings) -> None:
    """Point the cache and the queues at a port where nothing listens."""
    unreachable = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": unreachable,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.RQ_QUEUES = {"default": {"URL": unreachable}}
    with pytest.raises(redis.exceptions.ConnectionError):
        caches["default"].get("anything")


@pytest.mark.django_db
@pytest.mark.usefixtures("redis_down")
def test_playback_answers_with_redis_down() -> None:
    film = make_film(qualities=("120p", "360p"), upload=True)
    api = APIClient()
    api.cookies[settings.JWT_ACCESS_COOKIE] = str(AccessToken.for_user(make_user()))

    video = api.get(f"/api/content/video-url/{film.pk}/")
    master = api.get(MASTER.format(film.pk))

    assert video.status_code == 200
    assert master.status_code == 200
    [low, _] = _variant_uris(master.content.decode())
    assert Client().get(_variant_path(film.pk, low)).status_code == 200


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
        film_id=film.pk, user=user, expires_at=timezone.now() - timedelta(seconds=1)
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
    segments = parse_playlist(packaged("120p").playlist.read_text()).segments
    assert {str(s.offset) for s in segments} <= requested
    decoded = re.findall(r"time=(\d+):(\d+):(\d+\.\d+)", log)[-1]
    seconds = int(decoded[0]) * 3600 + int(decoded[1]) * 60 + float(decoded[2])
    assert seconds == pytest.approx(CLIP_SECONDS, abs=0.2)


# --- Variant tokens die with the sign-in that fetched the master ---------------------

SPA_PASSWORD = "kettle-orchard-91"


def _signed_in_by_jwt(user_email: str) -> Client:
    """A client holding the cookies that `POST /api/users/login/` sets (a JWT sign-in)."""
    client = Client()
    response = client.post(
        "/api/users/login/",
        {"email": user_email, "password": SPA_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    return client


def _variant_of(client: Client, film: Film) -> str:
    master = client.get(MASTER.format(film.pk))
    assert master.status_code == 200, master.content
    return _variant_uris(master.content.decode())[0]


@pytest.mark.django_db
def test_variant_token_shows_no_user_id_or_readable_payload() -> None:
    film = make_film(upload=True)
    user = make_user(password=SPA_PASSWORD)
    uri = _variant_of(_signed_in_by_jwt(user.email), film)
    token = uri.split("?token=", 1)[1]

    assert Client().get(_variant_path(film.pk, uri)).status_code == 200
    for part in token.replace("-", "+").replace("_", "/").split("."):
        decoded = base64.b64decode(part + "=" * (-len(part) % 4))
        assert b'"u"' not in decoded
        assert str(user.pk).encode() + b"," not in decoded


@pytest.mark.django_db
def test_logout_ends_the_variant_tokens_of_that_sign_in() -> None:
    film = make_film(upload=True)
    user = make_user(password=SPA_PASSWORD)
    spa = _signed_in_by_jwt(user.email)
    uri = _variant_of(spa, film)
    other_device = _variant_of(_signed_in_by_jwt(user.email), film)

    assert spa.post("/api/users/logout/").status_code == 200

    assert Client().get(_variant_path(film.pk, uri)).status_code == 403
    assert Client().get(_variant_path(film.pk, other_device)).status_code == 200


@pytest.mark.django_db
def test_a_password_change_ends_every_variant_token() -> None:
    film = make_film(upload=True)
    user = make_user(password=SPA_PASSWORD)
    uri = _variant_of(_signed_in_by_jwt(user.email), film)
    session = Client()
    session.force_login(user)
    session_uri = _variant_of(session, film)

    user.set_password("another-strong-pass-7")
    user.save()

    assert Client().get(_variant_path(film.pk, uri)).status_code == 403
    assert Client().get(_variant_path(film.pk, session_uri)).status_code == 403


@pytest.mark.django_db
def test_a_staff_members_token_works_only_while_their_session_lasts() -> None:
    film = make_film(upload=True, published=False)
    staff = make_user(staff=True)
    session = Client()
    session.force_login(staff)
    uri = _variant_of(session, film)
    assert Client().get(_variant_path(film.pk, uri)).status_code == 200

    session.post("/accounts/logout/")

    assert Client().get(_variant_path(film.pk, uri)).status_code == 403


@pytest.mark.django_db
def test_variant_token_expires_with_the_playback_window() -> None:
    film = make_film(upload=True)
    user = make_user(password=SPA_PASSWORD)
    uri = _variant_of(_signed_in_by_jwt(user.email), film)
    later = timezone.now() + timedelta(seconds=playback_ttl(film) + 1)

    with freeze_time(later):
        assert Client().get(_variant_path(film.pk, uri)).status_code == 403


@pytest.mark.django_db
def test_a_shared_master_carries_each_viewers_own_working_token() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    film = make_film(qualities=("120p", "360p"))
    first, second = APIClient(), APIClient()
    first.force_authenticate(make_user())
    second.force_authenticate(make_user())

    mine = _master(first, film)
    with CaptureQueriesContext(connection) as queries:
        theirs = _master(second, film)

    assert not [q for q in queries.captured_queries if "content_app_rendition" in q["sql"]]
    assert _variant_uris(mine) != _variant_uris(theirs)
    for master in (mine, theirs):
        for uri in _variant_uris(master):
            assert "{token}" not in uri
            assert Client().get(_variant_path(film.pk, uri)).status_code == 200
