"""video-url and media signing: S3 presigning for the public endpoint, CloudFront, local media."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from affea.errors import NotFound
from affea.localdev import SeaweedS3
from affea.storage import s3_client, s3_client_reset
from content_app import playback
from content_app.models import RenditionStatus
from tests.content.factories import make_film, make_user, packaged
from users_app.models import User

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> APIClient:
    """A client holding the access cookie that `POST /api/users/login/` would set."""
    api = APIClient()
    api.cookies[settings.JWT_ACCESS_COOKIE] = str(AccessToken.for_user(user))
    return api


@pytest.fixture
def viewer_api() -> APIClient:
    return signed_in(make_user())


def _video_url(api: APIClient, film_id: int, **query: str):
    return api.get(f"/api/content/video-url/{film_id}/", query)


def test_video_url_streams_the_rendition_from_s3_with_ranges(viewer_api: APIClient) -> None:
    film = make_film(upload=True)

    response = _video_url(viewer_api, film.pk, quality="360p")

    assert response.status_code == 200
    body = response.json()
    assert body["quality"] == "360p"
    media = requests.get(body["url"], headers={"Range": "bytes=0-99"}, timeout=10)
    assert media.status_code == 206
    assert len(media.content) == 100
    assert media.headers["Content-Type"] == "video/mp4"
    assert media.headers["Content-Range"].startswith("bytes 0-99/")


def test_video_url_expires_after_the_configured_ttl(viewer_api: APIClient, settings) -> None:
    settings.AWS_QUERYSTRING_EXPIRE = 120
    film = make_film()

    body = _video_url(viewer_api, film.pk).json()

    expires_at = parse_datetime(body["expires_at"])
    assert expires_at is not None
    assert abs((expires_at - timezone.now()) - timedelta(seconds=120)) < timedelta(seconds=5)
    assert parse_qs(urlsplit(body["url"]).query)["X-Amz-Expires"] == ["120"]


def test_tampered_presigned_url_is_refused_by_s3(viewer_api: APIClient) -> None:
    film = make_film(upload=True)
    url = _video_url(viewer_api, film.pk).json()["url"]

    tampered = url.replace("/360p/", "/120p/")

    assert requests.get(tampered, timeout=10).status_code == 403


def test_video_url_without_quality_picks_the_best_ready_rendition(viewer_api: APIClient) -> None:
    film = make_film(qualities=("120p", "360p", "720p"))
    film.renditions.filter(quality="720p").update(status=RenditionStatus.PROCESSING)

    assert _video_url(viewer_api, film.pk).json()["quality"] == "360p"


def test_video_url_of_unknown_quality_is_400(viewer_api: APIClient) -> None:
    film = make_film()

    response = _video_url(viewer_api, film.pk, quality="4k")

    assert response.status_code == 400
    assert "quality" in response.json()


def test_video_url_of_a_quality_the_film_lacks_falls_back_to_the_best_below(
    viewer_api: APIClient,
) -> None:
    film = make_film(qualities=("120p", "360p", "720p"))  # a 720p source has no 1080p

    response = _video_url(viewer_api, film.pk, quality="1080p")

    assert response.status_code == 200
    assert response.json()["quality"] == "720p"


def test_video_url_of_a_quality_not_ready_falls_back_to_the_best_ready_below(
    viewer_api: APIClient,
) -> None:
    film = make_film(qualities=("120p", "360p", "720p"))
    film.renditions.filter(quality="720p").update(status=RenditionStatus.PROCESSING)

    assert _video_url(viewer_api, film.pk, quality="720p").json()["quality"] == "360p"


def test_video_url_with_nothing_ready_below_falls_back_to_the_lowest_ready(
    viewer_api: APIClient,
) -> None:
    film = make_film(qualities=("120p", "360p", "720p"))
    film.renditions.filter(quality__in=["120p", "360p"]).update(status=RenditionStatus.PROCESSING)

    assert _video_url(viewer_api, film.pk, quality="360p").json()["quality"] == "720p"


def test_video_url_of_a_ready_quality_gives_exactly_that_quality(viewer_api: APIClient) -> None:
    film = make_film(qualities=("120p", "360p", "720p"))

    assert _video_url(viewer_api, film.pk, quality="120p").json()["quality"] == "120p"


def test_choose_quality_with_nothing_ready_is_404() -> None:
    with pytest.raises(NotFound):
        playback.choose_quality({}, "720p")


def test_video_url_of_an_invisible_film_is_404(viewer_api: APIClient) -> None:
    film = make_film(taken_down=True)

    assert _video_url(viewer_api, film.pk).status_code == 404


def test_video_url_needs_a_signed_in_viewer() -> None:
    film = make_film()

    assert _video_url(APIClient(), film.pk).status_code == 401


def test_video_url_reuses_one_s3_client_per_process(viewer_api: APIClient) -> None:
    film = make_film()
    _video_url(viewer_api, film.pk)
    client = s3_client(public=True)

    for _ in range(3):
        assert _video_url(viewer_api, film.pk).status_code == 200

    assert s3_client(public=True) is client


def test_threads_asking_at_once_for_a_new_s3_client_get_one_and_the_same() -> None:
    # A fresh web worker's first requests come together (the uploader sends two at once).
    s3_client_reset()
    start = threading.Barrier(4)

    def ask() -> object:
        start.wait()
        return s3_client(public=True)

    with ThreadPoolExecutor(max_workers=4) as pool:
        clients = list(pool.map(lambda _: ask(), range(4)))

    assert len({id(client) for client in clients}) == 1


# --- The public endpoint ------------------------------------------------------------


@pytest.fixture
def public_host(settings, seaweed: SeaweedS3) -> Iterator[str]:
    """Make browsers reach the same SeaweedFS as `localhost` while servers use 127.0.0.1."""
    public = seaweed.endpoint_url.replace("127.0.0.1", "localhost")
    assert public != settings.AWS_S3_ENDPOINT_URL
    settings.AWS_S3_PUBLIC_ENDPOINT_URL = public
    s3_client_reset()
    yield urlsplit(public).netloc
    s3_client_reset()


def _fetch(url: str, first: int, last: int) -> requests.Response:
    return requests.get(url, headers={"Range": f"bytes={first}-{last}"}, timeout=10)


def test_video_url_is_signed_for_the_public_endpoint_and_plays(
    public_host: str, viewer_api: APIClient
) -> None:
    film = make_film(upload=True)

    url = _video_url(viewer_api, film.pk).json()["url"]

    assert urlsplit(url).netloc == public_host
    media = _fetch(url, 0, 99)
    assert media.status_code == 206
    assert media.content == packaged("360p").media.read_bytes()[:100]


def test_hls_variant_uris_carry_the_public_host_and_play(
    public_host: str, viewer_api: APIClient
) -> None:
    film = make_film(upload=True)
    master = viewer_api.get(f"/api/content/{film.pk}/hls/master.m3u8").content.decode()
    [variant] = [line for line in master.splitlines() if line and not line.startswith("#")]

    text = Client().get(f"/api/content/{film.pk}/hls/{variant}").content.decode()

    [url] = {line for line in text.splitlines() if line and not line.startswith("#")}
    assert urlsplit(url).netloc == public_host
    length, offset = map(int, re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)", text)[0])
    part = _fetch(url, offset, offset + length - 1)
    assert part.status_code == 206
    assert part.content == packaged("360p").media.read_bytes()[offset : offset + length]


def test_film_list_image_urls_carry_the_public_host_and_load(
    public_host: str, viewer_api: APIClient
) -> None:
    make_film(thumbnail=True)

    [item] = viewer_api.get("/api/content/", {"page": 1}).json()["results"]

    url = item["image_file"]
    assert urlsplit(url).netloc == public_host
    image = _fetch(url, 0, 3)
    assert image.status_code == 206
    assert image.content == b"\xff\xd8\xff\xe0"
    assert image.headers["Content-Type"] == "image/jpeg"


# --- CloudFront -------------------------------------------------------------------


def _cloudfront_b64decode(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_cloudfront_signed_url_verifies_with_the_public_key(settings) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    settings.CLOUDFRONT_DOMAIN = "d111111abcdef8.cloudfront.net"
    settings.CLOUDFRONT_KEY_PAIR_ID = "K2JCJMDEHXQW5F"
    settings.CLOUDFRONT_PRIVATE_KEY = pem.replace("\n", "\\n")

    signed = playback.signed_media_url("films/abc/renditions/720p.mp4")

    parts = urlsplit(signed.url)
    query = parse_qs(parts.query)
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    assert resource == "https://d111111abcdef8.cloudfront.net/films/abc/renditions/720p.mp4"
    assert query["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    assert int(query["Expires"][0]) == int(signed.expires_at.timestamp())
    policy = json.dumps(
        {
            "Statement": [
                {
                    "Resource": resource,
                    "Condition": {"DateLessThan": {"AWS:EpochTime": int(query["Expires"][0])}},
                }
            ]
        },
        separators=(",", ":"),
    ).encode()
    key.public_key().verify(
        _cloudfront_b64decode(query["Signature"][0]),
        policy,
        padding.PKCS1v15(),
        hashes.SHA1(),  # noqa: S303 - CloudFront's canned policies are RSA-SHA1
    )


# --- Local storage mode -----------------------------------------------------------


@pytest.fixture
def local_media(settings, tmp_path: Path) -> str:
    settings.STORAGE_BACKEND = "local"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": "/media/"},
        },
    }
    default_storage.save("films/x/renditions/360p.mp4", ContentFile(bytes(range(256)) * 4))
    return playback.signed_media_url("films/x/renditions/360p.mp4").url


def _path(url: str) -> str:
    return urlsplit(url).path


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_local_media_serves_the_whole_file_with_accept_ranges(local_media: str) -> None:
    response = Client().get(_path(local_media))

    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert len(_body(response)) == 1024


@pytest.mark.parametrize(
    ("header", "content_range", "first", "length"),
    [
        ("bytes=0-99", "bytes 0-99/1024", 0, 100),
        ("bytes=1000-", "bytes 1000-1023/1024", 1000, 24),
        ("bytes=-10", "bytes 1014-1023/1024", 1014, 10),
        ("bytes=1000-5000", "bytes 1000-1023/1024", 1000, 24),
    ],
)
def test_local_media_answers_ranges_with_206(
    local_media: str, header: str, content_range: str, first: int, length: int
) -> None:
    response = Client().get(_path(local_media), HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == content_range
    assert response["Content-Length"] == str(length)
    assert _body(response) == (bytes(range(256)) * 4)[first : first + length]


def test_local_media_answers_416_to_a_range_past_the_end(local_media: str) -> None:
    response = Client().get(_path(local_media), HTTP_RANGE="bytes=2000-")

    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */1024"


def test_local_media_ignores_range_when_if_range_names_another_version(local_media: str) -> None:
    client = Client()
    etag = client.head(_path(local_media))["ETag"]

    same = client.get(_path(local_media), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    other = client.get(_path(local_media), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"')

    assert same.status_code == 206
    assert other.status_code == 200
    assert len(_body(other)) == 1024


def test_local_media_refuses_tampered_and_expired_links(local_media: str) -> None:
    path = _path(local_media)
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    expired = playback.local_media_token(
        "films/x/renditions/360p.mp4", expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert Client().get(tampered).status_code == 403
    assert Client().get(f"/media/signed/{expired}").status_code == 403


def test_local_media_hands_the_file_to_nginx_when_configured(local_media: str, settings) -> None:
    settings.MEDIA_X_ACCEL_PREFIX = "/protected-media/"

    response = Client().get(_path(local_media), HTTP_RANGE="bytes=0-9")

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected-media/films/x/renditions/360p.mp4"
    assert response.content == b""


def test_video_url_in_local_mode_points_at_the_signed_media_view(
    local_media: str, viewer_api: APIClient
) -> None:
    film = make_film()
    default_storage.save(film.renditions.get().media_key, ContentFile(b"0123456789"))

    url = _video_url(viewer_api, film.pk).json()["url"]
    response = Client().get(_path(url), HTTP_RANGE="bytes=2-4")

    assert response.status_code == 206
    assert _body(response) == b"234"


def test_staff_get_a_video_url_for_an_unpublished_film() -> None:
    film = make_film(published=False)

    response = _video_url(signed_in(make_user(staff=True)), film.pk)

    assert response.status_code == 200
    assert response.json()["quality"] == "360p"


def test_staff_signed_in_to_the_site_by_session_get_a_video_url() -> None:
    api = APIClient()
    api.force_login(make_user(staff=True))
    film = make_film(published=False)

    assert _video_url(api, film.pk).status_code == 200


def test_a_viewer_does_not_get_a_video_url_for_an_unpublished_film() -> None:
    film = make_film(published=False)

    assert _video_url(signed_in(make_user()), film.pk).status_code == 404


@pytest.mark.parametrize("change", ["deactivated", "password changed", "deleted"])
def test_video_url_refuses_a_live_token_of_an_account_that_changed(change: str) -> None:
    user = make_user()
    api = signed_in(user)
    film = make_film()
    assert _video_url(api, film.pk).status_code == 200

    if change == "deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
    elif change == "password changed":
        user.set_password("a-new-passphrase-2026")
        user.save()
    else:
        user.delete()

    response = _video_url(api, film.pk)
    assert response.status_code == 401
    # Even for a film the account could never have seen: 401 comes before 404.
    assert _video_url(api, make_film(published=False).pk).status_code == 401


def test_video_url_reads_the_account_and_the_renditions_in_two_queries(
    viewer_api: APIClient, django_assert_num_queries
) -> None:
    film = make_film()

    with django_assert_num_queries(2):
        assert _video_url(viewer_api, film.pk, quality="360p").status_code == 200
