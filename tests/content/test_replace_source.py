"""A replaced source does not take the film off the air: viewers keep the old version until
the new one is ready, and keep it for good if the new one fails."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from content_app import pipeline, selectors
from content_app.media import objects
from content_app.models import Film, ProcessingState, Rendition, RenditionStatus
from content_app.pipeline.live import renditions_retired_delete
from users_app.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def viewer() -> User:
    return User.objects.create_user(email="viewer@example.com", password="pw-for-tests-123")


def _bucket_keys(film: Film) -> set[str]:
    return set(objects.list_keys(pipeline.film_prefix(film)))


def _row_keys(film: Film) -> set[str]:
    film.refresh_from_db()
    keys = {film.source.name, film.thumbnail.name, film.poster.name}
    keys |= {key for name, key in film.images_next.items() if name != "version"}
    for rendition in Rendition.objects.filter(film=film):
        keys |= {rendition.media_key, rendition.playlist_key}
    return {key for key in keys if key}


def _run_delayed_cleanups(run_jobs) -> None:
    """Run the deletions kept for players' signed URLs now instead of minutes from now:
    delayed jobs, and the replaced renditions the reconciler takes."""
    scheduled = django_rq.get_queue("default").scheduled_job_registry
    for job_id in scheduled.get_job_ids():
        job = django_rq.get_queue("default").fetch_job(job_id)
        if job and job.func_name == "content_app.tasks.delete_objects":
            scheduled.requeue(job_id)
    run_jobs()
    renditions_retired_delete(now=timezone.now() + timedelta(days=8))


def _viewer_sees(film: Film, viewer: User) -> dict[str, str]:
    """What playback offers a viewer: {quality: media key}, through the one visibility rule."""
    rows = selectors.playable_renditions(user=viewer, film_id=film.pk)
    return dict(rows.values_list("quality", "media_key"))


def _published(film: Film) -> None:
    Film.objects.filter(pk=film.pk).update(is_published=True, published_at=film.created_at)


def test_old_version_stays_on_air_until_the_new_one_is_ready_then_switches(
    make_video, upload, run_jobs, viewer
):
    film = Film.objects.create(
        title="Swap", slug="swap", source=upload(make_video(width=640, height=360))
    )
    run_jobs()
    _published(film)
    old = _viewer_sees(film, viewer)
    assert sorted(old) == ["120p", "360p"]

    film.refresh_from_db()
    film.source = upload(make_video(width=320, height=180, seconds=3.0), name="recut.mp4")
    film.save()
    # The new version's saved-source job, probe and lowest rung run; its images do not yet.
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=3, with_scheduler=False)
    film.refresh_from_db()
    assert film.source_version == 2
    assert film.renditions.filter(source_version=2, status=RenditionStatus.READY).exists()
    assert film.processing_state == ProcessingState.PROCESSING
    # Viewers still get the old renditions everywhere: playback, HLS, the page.
    assert _viewer_sees(film, viewer) == old
    api = APIClient()
    api.force_authenticate(viewer)
    master = api.get(f"/api/content/{film.pk}/hls/master.m3u8")
    assert master.status_code == 200
    assert master.content.decode().count("#EXT-X-STREAM-INF") == 2
    # Lists and pages get the renditions of the version on air only.
    listed = selectors.film_get(user=viewer, pk=film.pk)
    assert listed is not None
    assert sorted(r.media_key for r in listed.renditions.all()) == sorted(old.values())

    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.live_version == 2
    new = _viewer_sees(film, viewer)
    assert sorted(new) == ["120p"]  # the new source is 180 px high
    assert not set(new.values()) & set(old.values())
    # The old version is retired, kept for players holding its master, URLs and playlists.
    assert set(
        film.renditions.filter(retired_at=None).values_list("source_version", flat=True)
    ) == {2}
    assert not film.renditions.filter(source_version=1, retired_at=None).exists()
    assert film.renditions.filter(source_version=1).exclude(retired_at=None).exists()
    # Old objects outlive the switch for players holding signed URLs, then go.
    assert set(old.values()) <= _bucket_keys(film)
    _run_delayed_cleanups(run_jobs)
    assert _bucket_keys(film) == _row_keys(film)


def test_new_source_that_fails_leaves_the_old_version_on_air_and_staff_see_why(
    make_video, upload, run_jobs, viewer
):
    film = Film.objects.create(title="Keep", slug="keep", source=upload(make_video()))
    run_jobs()
    _published(film)
    old = _viewer_sees(film, viewer)
    assert old

    film.refresh_from_db()
    film.source = upload(content=b"not a video at all" * 64, name="broken.mp4")
    film.save()
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR
    assert film.processing_error.startswith("Reading the source:")
    assert film.live_version == 1
    assert _viewer_sees(film, viewer) == old
    assert selectors.films_visible_to(viewer).filter(pk=film.pk).exists()
    # Nothing orphaned, nothing missing: the old renditions and images, the new source.
    _run_delayed_cleanups(run_jobs)
    assert _bucket_keys(film) == _row_keys(film)
    assert set(old.values()) <= _bucket_keys(film)


def test_replacing_again_while_processing_drops_the_unaired_version(
    make_video, upload, run_jobs, viewer
):
    film = Film.objects.create(title="Twice", slug="twice", source=upload(make_video()))
    run_jobs()
    _published(film)
    old = _viewer_sees(film, viewer)
    for seconds in (3.0, 4.0):
        film.refresh_from_db()
        # Two rungs: its 360p is still queued when the next replacement comes.
        video = make_video(width=640, height=360, seconds=seconds)
        film.source = upload(video, name=f"cut-{seconds}.mp4")
        film.save()
        worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
        worker.work(burst=True, max_jobs=3, with_scheduler=False)
        assert _viewer_sees(film, viewer) == old
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.live_version == film.source_version == 3
    assert film.duration == pytest.approx(4.0, abs=0.2)
    _run_delayed_cleanups(run_jobs)
    assert _bucket_keys(film) == _row_keys(film)


def _replaced_up_to_its_images(film: Film, make_video, upload) -> None:
    """Replace the source and run the new version's steps but its ladder (360p)."""
    film.refresh_from_db()
    film.source = upload(make_video(width=640, height=360, seconds=3.0), name="recut.mp4")
    film.save()
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=4, with_scheduler=False)  # saved, probe, 120p, images
    film.refresh_from_db()
    assert film.images_next.get("version") == 2
    assert film.processing_state == ProcessingState.PROCESSING


def test_viewers_keep_the_old_images_until_the_new_version_is_on_air(make_video, upload, run_jobs):
    film = Film.objects.create(
        title="Cards", slug="cards", source=upload(make_video(width=640, height=360))
    )
    run_jobs()
    film.refresh_from_db()
    old = {film.thumbnail.name, film.poster.name}
    _replaced_up_to_its_images(film, make_video, upload)
    assert {film.thumbnail.name, film.poster.name} == old
    assert old <= _bucket_keys(film)

    run_jobs()  # the ladder: the new version is complete and goes on air with its images
    film.refresh_from_db()
    assert film.live_version == 2
    assert film.processing_state == ProcessingState.READY
    assert all("/images/v2-" in (key or "") for key in (film.thumbnail.name, film.poster.name))
    assert film.images_next == {}
    # Pages and lists signed URLs to the old images: they outlive the switch, then go.
    assert old <= _bucket_keys(film)
    _run_delayed_cleanups(run_jobs)
    assert _bucket_keys(film) == _row_keys(film)


def test_a_new_source_failing_after_its_images_leaves_the_old_images_with_the_old_video(
    make_video, upload, run_jobs, monkeypatch
):
    from content_app.media.errors import MediaError
    from content_app.pipeline import steps

    film = Film.objects.create(
        title="Fails", slug="fails", source=upload(make_video(width=640, height=360))
    )
    run_jobs()
    film.refresh_from_db()
    old = {film.thumbnail.name, film.poster.name}
    _replaced_up_to_its_images(film, make_video, upload)

    def ffmpeg_refuses(*args, **kwargs):
        raise MediaError("FFmpeg failed on this rung.")

    monkeypatch.setattr(steps, "run_ffmpeg", ffmpeg_refuses)
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR
    assert film.live_version == 1
    assert {film.thumbnail.name, film.poster.name} == old
    _run_delayed_cleanups(run_jobs)
    assert _bucket_keys(film) == _row_keys(film)
    # Reprocessing drops the failed version's images with it.
    pipeline.film_processing_restart(film=film)
    film.refresh_from_db()
    assert film.images_next == {}
    _run_delayed_cleanups(run_jobs)
    assert {film.thumbnail.name, film.poster.name} == old


def _variant_uris(master: str) -> list[str]:
    return [line for line in master.splitlines() if line and not line.startswith("#")]


def test_a_master_given_out_before_the_switch_keeps_playing_the_version_it_named(
    make_video, upload, run_jobs, viewer
):
    film = Film.objects.create(
        title="Mid-film", slug="mid-film", source=upload(make_video(width=640, height=360))
    )
    run_jobs()
    _published(film)
    api = APIClient()
    api.force_authenticate(viewer)
    before = _variant_uris(api.get(f"/api/content/{film.pk}/hls/master.m3u8").content.decode())
    assert len(before) == 2  # 120p and 360p

    film.refresh_from_db()
    film.source = upload(make_video(width=320, height=180, seconds=3.0), name="recut.mp4")
    film.save()
    run_jobs()
    film.refresh_from_db()
    assert film.live_version == 2
    # A player switching level mid-film gets the cut it started, both rungs of it (the new
    # cut has no 360p), not the new cut's timeline under the old one's.
    for uri in before:
        variant = APIClient().get(f"/api/content/{film.pk}/hls/{uri}")
        assert variant.status_code == 200, uri
        assert "/renditions/v1-" in variant.content.decode()
    after = _variant_uris(api.get(f"/api/content/{film.pk}/hls/master.m3u8").content.decode())
    assert len(after) == 1
    assert (
        "/renditions/v2-"
        in APIClient().get(f"/api/content/{film.pk}/hls/{after[0]}").content.decode()
    )

    # Once every URL given out to it has expired, the old version goes, rows and objects.
    _run_delayed_cleanups(run_jobs)
    assert APIClient().get(f"/api/content/{film.pk}/hls/{before[1]}").status_code == 404
    assert _bucket_keys(film) == _row_keys(film)
