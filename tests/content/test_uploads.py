"""Direct multipart uploads through the film admin's endpoints, against the test S3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Permission
from django.urls import reverse

from content_app.models import Film, ProcessingState, SourceUpload
from content_app.uploads.verify import NOT_VIDEO
from tests.content.test_admin import INLINE_EMPTY

pytestmark = pytest.mark.django_db(transaction=True)
PART = 5 * 1024 * 1024


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="up@example.com", password="pw")
    client.force_login(user)
    return client


def _base(film_ref: str | int) -> str:
    return reverse("admin:content_app_film_upload_begin", args=[str(film_ref)])


def _begin(client, ref, name: str, size: int):
    body = {"filename": name, "type": "video/mp4", "metadata": {"size": size}}
    return client.post(_base(ref), json.dumps(body), content_type="application/json")


def _send_parts(client, ref, created: dict, data: bytes, parts: list[int]) -> None:
    for number in parts:
        url = f"{_base(ref)}/{created['uploadId']}/{number}?key={created['key']}"
        signed = client.get(url).json()["url"]
        chunk = data[(number - 1) * PART : number * PART]
        assert requests.put(signed, data=chunk, timeout=30).status_code == 200


def _bucket_keys(seaweed, prefix: str) -> tuple[list[str], list[str]]:
    client = seaweed.client()
    objects = client.list_objects_v2(Bucket=seaweed.bucket, Prefix=prefix).get("Contents", [])
    uploads = client.list_multipart_uploads(Bucket=seaweed.bucket, Prefix=prefix)
    return [o["Key"] for o in objects], [u["Key"] for u in uploads.get("Uploads", [])]


def _add_page_upload(client, data: bytes, name: str) -> tuple[dict, str]:
    """Upload `data` in one part from the add page as Uppy does; (the upload, its token)."""
    created = _begin(client, "new", name, len(data)).json()
    url = f"{_base('new')}/{created['uploadId']}/1?key={created['key']}"
    requests.put(client.get(url).json()["url"], data=data, timeout=30)
    done = client.post(f"{_base('new')}/{created['uploadId']}/complete?key={created['key']}")
    return created, done.json()["location"]


@pytest.fixture
def big_video(make_video, tmp_path) -> bytes:
    # Two parts: a real clip padded with an MP4 `free` box to just over one part.
    clip = make_video(seconds=1.0).read_bytes()
    pad = PART + 1000 - len(clip)
    return clip + pad.to_bytes(4, "big") + b"free" + b"\0" * (pad - 8)


def test_resumed_upload_lists_sent_parts_then_completes_and_processing_starts(
    staff, seaweed, big_video
):
    film = Film.objects.create(title="Direct", slug="direct")
    created = _begin(staff, film.pk, "Master Final.MP4", len(big_video)).json()
    assert created["key"].startswith(f"films/{film.uuid}/source-")
    assert created["key"].endswith(".mp4")
    _send_parts(staff, film.pk, created, big_video, [1])
    listing = staff.get(f"{_base(film.pk)}/{created['uploadId']}?key={created['key']}").json()
    assert [p["PartNumber"] for p in listing] == [1]  # the browser resumes at part 2
    _send_parts(staff, film.pk, created, big_video, [2])
    done = staff.post(f"{_base(film.pk)}/{created['uploadId']}/complete?key={created['key']}")
    assert done.status_code == 200, done.content
    film.refresh_from_db()
    assert film.source.name == created["key"]
    assert film.source_version == 1
    assert film.processing_state == ProcessingState.PENDING
    assert done.json()["status"]["state"] == "pending"
    objects, uploads = _bucket_keys(seaweed, f"films/{film.uuid}/")
    assert objects == [created["key"]]
    assert uploads == []


def test_a_file_that_is_not_video_is_refused_in_plain_words_and_deleted(staff, seaweed):
    film = Film.objects.create(title="Junk", slug="junk")
    data = b"not a video at all " * 1000
    created = _begin(staff, film.pk, "junk.mp4", len(data)).json()
    url = f"{_base(film.pk)}/{created['uploadId']}/1?key={created['key']}"
    requests.put(staff.get(url).json()["url"], data=data, timeout=30)
    done = staff.post(f"{_base(film.pk)}/{created['uploadId']}/complete?key={created['key']}")
    assert done.status_code == 400
    assert done.json()["error"] in (NOT_VIDEO, "The file is not a video Affea can read "
                                    "(FFmpeg: invalid data found).")  # fmt: skip
    assert "http" not in done.json()["error"]
    film.refresh_from_db()
    assert film.source.name == ""
    assert _bucket_keys(seaweed, f"films/{film.uuid}/") == ([], [])


def test_a_size_that_does_not_match_is_refused_and_deleted(staff, seaweed, make_video):
    film = Film.objects.create(title="Short", slug="short")
    data = make_video(seconds=1.0).read_bytes()
    created = _begin(staff, film.pk, "film.mp4", len(data) + 10).json()
    url = f"{_base(film.pk)}/{created['uploadId']}/1?key={created['key']}"
    requests.put(staff.get(url).json()["url"], data=data, timeout=30)
    done = staff.post(f"{_base(film.pk)}/{created['uploadId']}/complete?key={created['key']}")
    assert done.json()["error"].startswith("The upload is incomplete")
    assert _bucket_keys(seaweed, f"films/{film.uuid}/") == ([], [])


def test_a_file_type_affea_does_not_accept_is_refused_before_any_byte(staff, seaweed):
    film = Film.objects.create(title="Zip", slug="zip")
    refused = _begin(staff, film.pk, "film.zip", 1000)
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("“zip” is not a video file type Affea accepts.")
    assert _bucket_keys(seaweed, f"films/{film.uuid}/") == ([], [])


def test_a_file_larger_than_storage_holds_is_refused_before_any_byte(staff, seaweed):
    film = Film.objects.create(title="Huge", slug="huge")
    refused = _begin(staff, film.pk, "film.mov", 5 * 1024**4 + 1)
    assert refused.status_code == 400
    assert "larger than 5 TiB" in refused.json()["error"]
    assert _bucket_keys(seaweed, f"films/{film.uuid}/") == ([], [])


def test_odd_upload_references_and_bodies_are_refused_not_errors(staff, seaweed, big_video):
    film = Film.objects.create(title="Odd", slug="odd")
    created = _begin(staff, film.pk, "film.mp4", len(big_video)).json()
    upload, key = created["uploadId"], created["key"]
    nul = "a%00b"
    # In the query, a NUL is refused before any view (affea.middleware); in the path, the
    # upload it names is unknown.
    for url in (f"{_base(film.pk)}/{upload}?key={nul}", f"{_base(film.pk)}/{upload}/1?key={nul}"):
        assert staff.get(url).status_code == 400, url
    assert staff.get(f"{_base(film.pk)}/{nul}?key={key}").status_code == 404
    assert staff.post(f"{_base(film.pk)}/{upload}/complete?key={nul}").status_code == 400
    assert staff.delete(f"{_base(film.pk)}/{upload}?key={nul}").status_code == 400
    assert staff.post(f"{_base(film.pk)}/{nul}/complete?key={key}").status_code == 404
    nested = b"[" * 100_000 + b"]" * 100_000  # deeper than Python's stack
    refused = staff.post(_base(film.pk), nested, content_type="application/json")
    assert refused.status_code == 400
    assert "name and size" in refused.json()["error"]
    # The real upload is untouched by all of that.
    assert staff.get(f"{_base(film.pk)}/{upload}?key={key}").status_code == 200


def test_abort_leaves_no_parts(staff, seaweed, big_video):
    film = Film.objects.create(title="Gone", slug="gone")
    created = _begin(staff, film.pk, "film.mp4", len(big_video)).json()
    _send_parts(staff, film.pk, created, big_video, [1])
    url = f"{_base(film.pk)}/{created['uploadId']}?key={created['key']}"
    assert staff.delete(url).status_code == 200
    assert _bucket_keys(seaweed, f"films/{film.uuid}/") == ([], [])
    assert staff.get(url).status_code == 404  # the upload is no longer known


def test_replacing_a_source_by_direct_upload_leaves_only_the_new_one(
    staff, seaweed, make_video, run_jobs
):
    film = Film.objects.create(title="Twice", slug="twice")
    keys = []
    for seconds in (1.0, 1.5):
        data = make_video(seconds=seconds).read_bytes()
        created = _begin(staff, film.pk, "film.mp4", len(data)).json()
        url = f"{_base(film.pk)}/{created['uploadId']}/1?key={created['key']}"
        requests.put(staff.get(url).json()["url"], data=data, timeout=30)
        staff.post(f"{_base(film.pk)}/{created['uploadId']}/complete?key={created['key']}")
        keys.append(created["key"])
    run_jobs()
    film.refresh_from_db()
    assert film.source.name == keys[1]
    assert film.processing_state == ProcessingState.READY
    objects, uploads = _bucket_keys(seaweed, f"films/{film.uuid}/")
    assert keys[0] not in objects
    assert keys[1] in objects
    assert uploads == []


def test_add_page_upload_is_finished_when_the_form_is_saved(staff, seaweed, make_video):
    created, token = _add_page_upload(staff, make_video(seconds=1.0).read_bytes(), "new film.mov")
    response = staff.post(
        reverse("admin:content_app_film_add"),
        {"title": "Added", "slug": "", "source_upload": token, **INLINE_EMPTY},
    )
    assert response.status_code == 302, response.content[:2000]
    film = Film.objects.get(title="Added")
    assert film.source.name == created["key"]
    assert created["key"].startswith(f"films/{film.uuid}/")
    assert film.source_version == 1


def test_only_staff_with_change_permission_may_sign(client, seaweed, django_user_model, staff):
    film = Film.objects.create(title="Guarded", slug="guarded")
    created = _begin(staff, film.pk, "film.mp4", 100).json()
    viewer = django_user_model.objects.create_user(
        email="editor@example.com", password="pw", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_film"))
    client.force_login(viewer)
    url = f"{_base(film.pk)}/{created['uploadId']}/1?key={created['key']}"
    assert client.get(url).status_code == 403
    assert _begin(client, film.pk, "film.mp4", 100).status_code == 403
    # Another user with the change permission still cannot sign an upload not theirs.
    viewer.user_permissions.add(Permission.objects.get(codename="change_film"))
    client.force_login(viewer)
    assert client.get(url).status_code == 404
    other_key = url.replace(created["key"], f"films/{film.uuid}/source-other.mp4")
    assert staff.get(other_key).status_code == 404


def test_reconciler_aborts_an_abandoned_direct_upload_after_the_setting(
    staff, seaweed, settings, big_video
):
    from content_app import pipeline

    film = Film.objects.create(title="Left", slug="left")
    created = _begin(staff, film.pk, "film.mp4", len(big_video)).json()
    _send_parts(staff, film.pk, created, big_video, [1])
    pipeline.films_reconcile()
    assert _bucket_keys(seaweed, f"films/{film.uuid}/")[1] == [created["key"]]  # 24 h: kept
    assert SourceUpload.objects.filter(upload_id=created["uploadId"]).exists()
    settings.UPLOAD_ABANDON_AFTER = 0
    assert f"aborted incomplete upload of {created['key']}" in pipeline.films_reconcile()
    assert _bucket_keys(seaweed, f"films/{film.uuid}/") == ([], [])
    assert not SourceUpload.objects.exists()
    sign = f"{_base(film.pk)}/{created['uploadId']}/2?key={created['key']}"
    assert staff.get(sign).status_code == 404


def test_an_upload_carries_on_after_redis_is_emptied(staff, seaweed, big_video, redis_connection):
    # An upload of a festival master takes hours: Redis restarted empty meanwhile (the
    # cache, the queues) must not make its next parts unknown.
    film = Film.objects.create(title="Long haul", slug="long-haul")
    created = _begin(staff, film.pk, "film.mp4", len(big_video)).json()
    _send_parts(staff, film.pk, created, big_video, [1])
    redis_connection.flushdb()  # the cache and the queues live there
    _send_parts(staff, film.pk, created, big_video, [2])
    done = staff.post(f"{_base(film.pk)}/{created['uploadId']}/complete?key={created['key']}")
    assert done.status_code == 200, done.content
    film.refresh_from_db()
    assert film.source.name == created["key"]


def test_seaweedfs_bucket_has_the_incomplete_upload_lifecycle_rule(seaweed):
    rules = seaweed.client().get_bucket_lifecycle_configuration(Bucket=seaweed.bucket)["Rules"]
    assert rules[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_form_upload_still_works(staff, make_video, upload):
    response = staff.post(
        reverse("admin:content_app_film_add"),
        {"title": "Form", "slug": "", "source": upload(Path(make_video())), **INLINE_EMPTY},
    )
    assert response.status_code == 302
    assert (Film.objects.get(title="Form").source.name or "").endswith(".mp4")


def test_add_page_upload_is_kept_when_the_form_comes_back_for_an_inline_error(
    staff, seaweed, make_video
):
    created, token = _add_page_upload(staff, make_video(seconds=1.0).read_bytes(), "kept.mp4")
    form = {"title": "Kept", "slug": "", "source_upload": token, **INLINE_EMPTY}
    # A subtitle row without its file: the film form itself is valid, the inline is not.
    broken_inline = {
        **form,
        "subtitles-TOTAL_FORMS": "1",
        "subtitles-0-language": "en",
        "subtitles-0-label": "English",
    }
    sent_back = staff.post(reverse("admin:content_app_film_add"), broken_inline)
    assert sent_back.status_code == 200
    assert not Film.objects.filter(title="Kept").exists()
    assert "The file uploaded earlier is kept" in sent_back.content.decode()
    # The page sends the same token again: the file is not uploaded twice.
    response = staff.post(reverse("admin:content_app_film_add"), form)
    assert response.status_code == 302, response.content[:2000]
    film = Film.objects.get(title="Kept")
    assert film.source.name == created["key"]
    assert not SourceUpload.objects.exists()
    assert _bucket_keys(seaweed, f"films/{film.uuid}/") == ([created["key"]], [])


def test_parts_storage_refuses_to_assemble_are_dropped_with_a_plain_error(staff, seaweed):
    # S3 assembles no part under 5 MiB but the last one: a script sending small parts.
    film = Film.objects.create(title="Small parts", slug="small-parts")
    created = _begin(staff, film.pk, "film.mp4", 2000).json()
    for number in (1, 2):
        url = f"{_base(film.pk)}/{created['uploadId']}/{number}?key={created['key']}"
        assert requests.put(staff.get(url).json()["url"], data=b"x" * 1000, timeout=30).ok
    done = staff.post(f"{_base(film.pk)}/{created['uploadId']}/complete?key={created['key']}")
    assert done.status_code == 400, done.content
    assert "Storage could not assemble the uploaded parts (EntityTooSmall)" in done.json()["error"]
    assert _bucket_keys(seaweed, f"films/{film.uuid}/") == ([], [])
    assert not SourceUpload.objects.exists()


def test_storage_down_while_an_assembled_upload_is_checked_again_keeps_it_for_the_retry(
    staff, seaweed, settings, make_video
):
    from affea.localdev import free_port
    from tests.conftest import _reset_storage_caches

    created, token = _add_page_upload(staff, make_video(seconds=1.0).read_bytes(), "kept.mp4")
    form = {"title": "Kept", "slug": "", "source_upload": token, **INLINE_EMPTY}
    broken_inline = {**form, "subtitles-TOTAL_FORMS": "1", "subtitles-0-language": "en"}
    # Assembled and checked once; the form comes back for its inline.
    assert staff.post(reverse("admin:content_app_film_add"), broken_inline).status_code == 200
    endpoint = settings.AWS_S3_ENDPOINT_URL
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing answers there
    _reset_storage_caches()
    try:
        down = staff.post(reverse("admin:content_app_film_add"), form)
    finally:
        settings.AWS_S3_ENDPOINT_URL = endpoint
        _reset_storage_caches()

    # Storage's failure, not the file's: the upload is kept for the next save.
    assert "File storage cannot be reached right now" in down.content.decode()
    assert SourceUpload.objects.filter(key=created["key"]).exists()
    saved = staff.post(reverse("admin:content_app_film_add"), form)
    assert saved.status_code == 302, saved.content[:2000]
    assert Film.objects.get(title="Kept").source.name == created["key"]


def test_storage_down_at_completion_is_a_server_error_the_uploader_retries(
    staff, seaweed, settings, make_video
):
    from affea.localdev import free_port
    from tests.conftest import _reset_storage_caches

    film = Film.objects.create(title="Retried", slug="retried")
    data = make_video(seconds=1.0).read_bytes()
    created = _begin(staff, film.pk, "retried.mp4", len(data)).json()
    _send_parts(staff, film.pk, created, data, [1])
    complete = f"{_base(film.pk)}/{created['uploadId']}/complete?key={created['key']}"
    endpoint = settings.AWS_S3_ENDPOINT_URL
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing answers there
    _reset_storage_caches()
    try:
        down = staff.post(complete)
    finally:
        settings.AWS_S3_ENDPOINT_URL = endpoint
        _reset_storage_caches()

    # 5xx: admin-uploader.js retries it once storage answers; a 4xx would end the upload.
    assert down.status_code == 503
    assert "File storage cannot be reached right now" in down.json()["error"]
    again = staff.post(complete)
    assert again.status_code == 200, again.content
    film.refresh_from_db()
    assert film.source.name == created["key"]
