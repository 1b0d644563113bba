"""The orphan sweep: objects no row names (their deletion lost with Redis) go once old; every
object a row names stays, however old, and so do young ones a step may not have recorded."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

import django_rq
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from content_app import pipeline
from content_app.media import objects
from content_app.models import Film, Rendition, SourceUpload, Subtitle
from content_app.pipeline import sweep
from content_app.pipeline.live import old_renditions_grace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _bucket(*prefixes: str) -> set[str]:
    """What storage holds under `prefixes` (the bucket is shared by the session's tests)."""
    return {key for prefix in prefixes for key in objects.list_keys(prefix)}


def _about(report: list[str], *prefixes: str) -> list[str]:
    return [line for line in report if any(f" {prefix}" in line for prefix in prefixes)]


def _row_keys() -> set[str]:
    """Every key the rows name, written out here independently of the sweep's own list."""
    keys: set[str | None] = set()
    for film in Film.objects.all():
        keys |= {film.source.name, film.thumbnail.name, film.poster.name, film.processing_source}
        keys |= set(film.images_pending.values())
        keys |= {key for name, key in film.images_next.items() if name != "version"}
    for rendition in Rendition.objects.all():
        keys |= {rendition.media_key, rendition.playlist_key}
    keys |= {subtitle.file.name for subtitle in Subtitle.objects.all()}
    return {key for key in keys if key}


def _run_scheduled(run_jobs) -> None:
    """Run the deletions kept back for players' signed URLs now instead of minutes from now."""
    scheduled = django_rq.get_queue("default").scheduled_job_registry
    for job_id in scheduled.get_job_ids():
        scheduled.requeue(job_id)
    run_jobs()


def _store(key: str, data: bytes = b"orphan") -> str:
    return default_storage.save(key, ContentFile(data))


def _newer_than_everything_stored(key: str, *prefixes: str) -> str:
    """Store `key` two seconds or more after every object under `prefixes` (storage times
    have one-second steps), so that a cutoff can fall between them."""
    latest = max(default_storage.get_modified_time(k) for k in _bucket(*prefixes))
    time.sleep(max(0.0, (latest - timezone.now()).total_seconds() + 2.1))
    stored = _store(key)
    assert default_storage.get_modified_time(stored) >= latest + timedelta(seconds=2)
    return stored


def _grace() -> str:
    """The wait of a sweep's deletions: HLS URLs of the longest film or rendition stored."""
    lengths = [f.duration or 0.0 for f in Film.objects.all()]
    lengths += [r.seconds for r in Rendition.objects.all()]
    return f"{old_renditions_grace(max(lengths, default=0.0)).total_seconds():.0f} s"


def test_sweep_deletes_old_unnamed_objects_and_keeps_named_and_young_ones(
    make_video, upload, run_jobs, redis_connection, caplog
):
    film = Film.objects.create(
        title="Swept", slug="swept", source=upload(make_video(width=640, height=360))
    )
    run_jobs()
    film.refresh_from_db()
    film.source = upload(make_video(width=320, height=180, seconds=3.0), name="recut.mp4")
    film.save()
    run_jobs()
    film.refresh_from_db()
    assert film.live_version == 2
    gone_prefix = f"films/{uuid.uuid4()}/"
    prefixes = (pipeline.film_prefix(film), gone_prefix)
    # The replaced version's renditions and images wait for their delayed deletion, which
    # Redis loses.
    lost = _bucket(*prefixes) - _row_keys()
    assert lost
    assert all("/renditions/v1-" in key or "/images/v1-" in key for key in lost)
    redis_connection.flushdb()
    # Leftovers of a film deleted while its clean-up was lost too.
    gone = _store(f"{gone_prefix}source-0123456789ab.mp4")
    lost.add(gone)
    # Named only by a subtitle row, and by a staff upload waiting for its re-encoding.
    Subtitle.objects.create(
        film=film, language="en", label="English", file=SimpleUploadedFile("en.vtt", b"WEBVTT\n")
    )
    pending = _store(f"{prefixes[0]}images/pending-upload.jpg")
    Film.objects.filter(pk=film.pk).update(images_pending={"poster": pending})
    named = _row_keys()
    assert named <= _bucket(*prefixes)
    # Stored by a step that has not recorded it yet.
    young = _newer_than_everything_stored(
        f"{prefixes[0]}renditions/v3-120p-young/media.mp4", *prefixes
    )

    # A day after `young` was stored, less a second: everything else is older than a day.
    now = default_storage.get_modified_time(young) + sweep.orphan_age() - timedelta(seconds=1)
    with caplog.at_level(logging.INFO, logger=sweep.logger.name):
        report = _about(sweep.orphans_sweep(now=now), *prefixes)
    owners = {gone: f"deleted film {gone.split('/')[1]}"}
    assert sorted(report) == sorted(
        f"{owners.get(key, f'film {film.pk}')}: orphan {key} (24 h old, named by no row) "
        f"deleted in {_grace()}"
        for key in lost
    )
    logged = [r.getMessage() for r in caplog.records if r.name == sweep.logger.name]
    assert _about(logged, *prefixes) == [f"storage sweep: {line}" for line in report]
    # Players may still hold signed URLs to a version replaced a moment ago: nothing goes yet.
    assert lost <= _bucket(*prefixes)

    _run_scheduled(run_jobs)
    assert _bucket(*prefixes) == named | {young}


def test_an_orphan_outlives_the_hls_urls_of_the_longest_film(redis_connection):
    """An orphan may be the media of a feature replaced a moment ago: players were given
    HLS URLs to it that live as long as the feature plays."""
    Film.objects.create(title="Feature", slug="feature", duration=2 * 3600.0)
    film = Film.objects.create(title="Recut", slug="recut", duration=60.0)
    orphan = _store(f"{pipeline.film_prefix(film)}renditions/v1-360p-replaced/media.mp4")
    now = default_storage.get_modified_time(orphan) + sweep.orphan_age() + timedelta(seconds=1)
    before = timezone.now()
    report = _about(sweep.orphans_sweep(now=now), pipeline.film_prefix(film))
    wait = settings.AWS_QUERYSTRING_EXPIRE + 2 * 3600 + 60
    assert report == [
        f"film {film.pk}: orphan {orphan} (24 h old, named by no row) deleted in {wait} s"
    ]
    scheduled = django_rq.get_queue("default").scheduled_job_registry
    [job_id] = scheduled.get_job_ids()
    runs_at = scheduled.get_scheduled_time(job_id)
    assert runs_at >= before + timedelta(seconds=wait - 1)


def test_an_orphan_named_by_a_row_again_before_its_deletion_runs_is_kept(run_jobs):
    film = Film.objects.create(title="Late", slug="late")
    prefix = pipeline.film_prefix(film)
    key = _store(f"{prefix}images/late.jpg")
    now = default_storage.get_modified_time(key) + timedelta(days=2)
    assert _about(sweep.orphans_sweep(now=now), prefix) == [
        f"film {film.pk}: orphan {key} (48 h old, named by no row) deleted in {_grace()}"
    ]
    Film.objects.filter(pk=film.pk).update(thumbnail=key)

    _run_scheduled(run_jobs)
    assert _bucket(prefix) == {key}


def test_sweep_reports_nothing_of_a_film_whose_objects_rows_all_name(make_video, upload):
    film = Film.objects.create(title="Clean", slug="clean", source=upload(make_video()))
    prefix = pipeline.film_prefix(film)
    assert _bucket(prefix) == {film.source.name}
    now = default_storage.get_modified_time(film.source.name or "") + timedelta(days=30)
    assert _about(sweep.orphans_sweep(now=now), prefix) == []


def test_an_object_deleted_between_listing_and_its_age_check_is_skipped():
    film = Film.objects.create(title="Gone", slug="gone")
    key = _store(f"{pipeline.film_prefix(film)}images/gone.jpg")
    assert sweep._modified(key) is not None
    default_storage.delete(key)
    assert sweep._modified(key) is None


def test_an_add_page_upload_waiting_for_its_film_is_kept_until_its_row_goes(django_user_model):
    user = django_user_model.objects.create_user(email="u@example.com", password="pw")
    film_uuid = uuid.uuid4()
    key = _store(f"films/{film_uuid}/source-waiting.mp4")
    upload = SourceUpload.objects.create(
        upload_id="spent", key=key, size=6, user=user, film_uuid=film_uuid,
        assembled_at=timezone.now(),
    )  # fmt: skip
    now = default_storage.get_modified_time(key) + timedelta(days=2)
    assert _about(sweep.orphans_sweep(now=now), f"films/{film_uuid}/") == []
    upload.delete()  # abandoned: the reconciler drops the row, the sweep the object
    assert _about(sweep.orphans_sweep(now=now), f"films/{film_uuid}/") == [
        f"deleted film {film_uuid}: orphan {key} (48 h old, named by no row) deleted in {_grace()}"
    ]
