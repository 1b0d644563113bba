"""The pipeline end to end in this process: signals, RQ jobs, FFmpeg, SeaweedFS, PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.db import transaction
from django.utils import timezone

from content_app import pipeline, services, tasks
from content_app.media import objects
from content_app.models import Film, ProcessingState, Rendition, RenditionStatus
from content_app.pipeline.live import renditions_retired_delete
from content_app.pipeline.queue import RETRY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _bucket_keys(film: Film) -> set[str]:
    return set(objects.list_keys(pipeline.film_prefix(film)))


def _row_keys(film: Film) -> set[str]:
    film.refresh_from_db()
    keys = {film.source.name, film.thumbnail.name, film.poster.name}
    for rendition in Rendition.objects.filter(film=film):
        keys |= {rendition.media_key, rendition.playlist_key}
    return {key for key in keys if key}


def _run_delayed_cleanups(run_jobs) -> None:
    """Run the deletions kept for players' signed URLs now, not once those expire: delayed
    jobs, and the replaced renditions the reconciler takes."""
    scheduled = django_rq.get_queue("default").scheduled_job_registry
    for job_id in scheduled.get_job_ids():
        scheduled.requeue(job_id)
    run_jobs()
    renditions_retired_delete(now=timezone.now() + timedelta(days=8))


def test_new_film_becomes_ready_with_ladder_thumbnail_and_poster(make_video, upload, run_jobs):
    film = Film.objects.create(
        title="Ladder", slug="ladder", source=upload(make_video(width=640, height=360))
    )
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.processing_note == ""
    assert film.processing_progress == 100
    assert film.duration == pytest.approx(2.0, abs=0.2)
    assert (film.source_width, film.source_height) == (640, 360)
    renditions = {r.quality: r for r in film.renditions.all()}
    assert sorted(renditions) == ["120p", "360p"]
    assert (renditions["360p"].width, renditions["360p"].height) == (640, 360)
    assert all(r.status == RenditionStatus.READY and r.size for r in renditions.values())
    # What HLS playlists need is recorded from FFmpeg's output (content_app.media.packaging).
    assert renditions["360p"].hls_codecs.startswith("avc1.")
    assert renditions["360p"].hls_codecs.endswith(",mp4a.40.2")
    assert renditions["360p"].hls_bandwidth
    assert renditions["360p"].hls_segments
    assert film.thumbnail_generated
    assert film.poster_generated


def test_a_films_steps_download_its_source_once(make_video, upload, run_jobs, monkeypatch):
    downloads: list[str] = []
    download = objects.download

    def counted(key, dest):
        downloads.append(key)
        download(key, dest)

    monkeypatch.setattr(objects, "download", counted)
    film = Film.objects.create(
        title="Once", slug="once", source=upload(make_video(width=640, height=360))
    )
    run_jobs()  # probe, 120p, the ladder (360p) and the images
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert downloads == [film.source.name]


def test_storage_keys_are_generated_under_the_film_prefix(make_video, upload, run_jobs):
    film = Film.objects.create(
        title="Keys", slug="keys", source=upload(make_video(), name="My Holiday.mp4")
    )
    run_jobs()
    prefix = pipeline.film_prefix(film)
    assert _row_keys(film)
    assert all(key.startswith(prefix) and "Holiday" not in key for key in _row_keys(film))
    rendition = film.renditions.get()
    assert rendition.media_key.endswith("/media.mp4")
    assert rendition.playlist_key.endswith("/index.m3u8")


def test_playlist_is_a_byte_range_vod_playlist_of_the_media_file(
    make_video, upload, run_jobs, seaweed
):
    film = Film.objects.create(title="HLS", slug="hls", source=upload(make_video()))
    run_jobs()
    rendition = film.renditions.get()
    body = seaweed.client().get_object(Bucket=seaweed.bucket, Key=rendition.playlist_key)
    playlist = body["Body"].read().decode()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
    assert '#EXT-X-MAP:URI="media.mp4",BYTERANGE=' in playlist
    assert "#EXT-X-BYTERANGE:" in playlist
    assert playlist.rstrip().endswith("#EXT-X-ENDLIST")


def test_processing_is_enqueued_only_after_commit(make_video, upload):
    queue = django_rq.get_queue("high")
    with transaction.atomic():
        Film.objects.create(title="Commit", slug="commit", source=upload(make_video()))
        assert queue.count == 0
    assert queue.count == 1


def test_source_changed_outside_the_admin_is_processed_by_a_job(make_video, upload, run_jobs):
    film = Film.objects.create(title="Shell", slug="shell", source=upload(make_video()))
    film.refresh_from_db()
    film.source = upload(make_video(seconds=3.0), name="from-a-script.mp4")
    film.save()
    funcs = [job.func_name for job in django_rq.get_queue("high").jobs]
    assert funcs.count("content_app.tasks.process_saved_source") == 2
    assert "content_app.tasks.probe_film" not in funcs
    assert film.source_version == 0  # nothing restarted in the saving process
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.processing_note == ""
    assert film.source_version == 1  # the first source's job found it replaced and did nothing
    assert film.duration == pytest.approx(3.0, abs=0.2)


def test_saved_source_job_does_nothing_once_processing_of_it_has_started(make_video, upload):
    film = Film.objects.create(title="Once", slug="once", source=upload(make_video()))
    django_rq.get_queue("high").empty()
    pipeline.film_processing_restart(film=film)  # as the admin does after its save
    tasks.process_saved_source(film.pk, film.source.name or "", 0)
    film.refresh_from_db()
    assert film.source_version == 1
    assert [job.func_name for job in django_rq.get_queue("high").jobs] == [
        "content_app.tasks.probe_film"
    ]


def test_saving_without_changing_the_source_enqueues_nothing(make_video, upload, run_jobs):
    film = Film.objects.create(title="Same", slug="same", source=upload(make_video()))
    run_jobs()
    film.refresh_from_db()
    film.title = "Same source, new title"
    film.save()
    assert [django_rq.get_queue(name).count for name in ("high", "default")] == [0, 0]
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY


def test_film_is_playable_after_its_first_rendition_and_ready_after_all(
    make_video, upload, run_jobs
):
    film = Film.objects.create(
        title="Early", slug="early", source=upload(make_video(width=640, height=360))
    )
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=3, with_scheduler=False)  # saved source, probe, 120p
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.PROCESSING
    assert 0 < film.processing_progress < 100
    assert list(
        film.renditions.filter(status=RenditionStatus.READY).values_list("quality", flat=True)
    ) == ["120p"]
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.processing_note == ""


def test_replacing_the_source_leaves_no_object_that_no_row_points_to(make_video, upload, run_jobs):
    film = Film.objects.create(title="Replace", slug="replace", source=upload(make_video()))
    run_jobs()
    old_keys = _row_keys(film)
    film.refresh_from_db()
    film.source = upload(make_video(seconds=3.0), name="second.mp4")
    film.save()
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.processing_note == ""
    assert film.source_version == 2
    assert film.duration == pytest.approx(3.0, abs=0.2)
    _run_delayed_cleanups(run_jobs)
    assert _bucket_keys(film) == _row_keys(film)
    assert not old_keys & _bucket_keys(film)


def test_deleting_a_film_removes_all_its_objects(make_video, upload, run_jobs):
    film = Film.objects.create(title="Delete", slug="delete", source=upload(make_video()))
    run_jobs()
    assert _bucket_keys(film)
    film.delete()
    run_jobs()
    assert _bucket_keys(film) == set()


def test_work_for_a_replaced_source_leaves_only_the_new_version(make_video, upload, run_jobs):
    film = Film.objects.create(title="Stale", slug="stale", source=upload(make_video()))
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=1, with_scheduler=False)
    film.refresh_from_db()
    # The v1 probe is still queued when the source is replaced: what it does is dropped
    # once processing of the new source starts.
    film.source = upload(make_video(width=640, height=360), name="new.mp4")
    film.save()
    run_jobs()
    film.refresh_from_db()
    assert film.source_version == 2
    assert set(film.renditions.values_list("source_version", flat=True)) == {2}
    assert sorted(film.renditions.values_list("quality", flat=True)) == ["120p", "360p"]
    assert _bucket_keys(film) == _row_keys(film)


def test_an_error_another_worker_records_meanwhile_is_not_shown_as_processing(
    make_video, upload, monkeypatch
):
    from content_app.pipeline import state, steps

    film = Film.objects.create(
        title="Race", slug="race", source=upload(make_video(width=640, height=360))
    )
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=3, with_scheduler=False)  # saved source, probe, 120p
    ladder_for = steps.ladder_for

    def images_fail_meanwhile(width: int, height: int):
        # Runs after the ladder's step found the film processing, before it says so again.
        state.film_fail(film_id=film.pk, version=1, reason="Thumbnail and poster: no frame.")
        return ladder_for(width, height)

    monkeypatch.setattr(steps, "ladder_for", images_fail_meanwhile)
    pipeline.ladder_make(film_id=film.pk, version=1)
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR
    assert film.processing_error == "Thumbnail and poster: no frame."


def test_running_a_finished_rendition_job_again_changes_nothing(make_video, upload, run_jobs):
    film = Film.objects.create(title="Twice", slug="twice", source=upload(make_video()))
    run_jobs()
    before = Rendition.objects.get(film=film)
    pipeline.rendition_make(film_id=film.pk, version=1, quality="120p")
    after = Rendition.objects.get(film=film)
    assert (after.media_key, after.finished_at) == (before.media_key, before.finished_at)
    assert _bucket_keys(film) == _row_keys(film)


def test_rerunning_a_rendition_replaces_its_objects_without_leaking(make_video, upload, run_jobs):
    film = Film.objects.create(title="Rerun", slug="rerun", source=upload(make_video()))
    run_jobs()
    rendition = Rendition.objects.get(film=film)
    Rendition.objects.filter(pk=rendition.pk).update(status=RenditionStatus.PROCESSING)
    pipeline.rendition_make(film_id=film.pk, version=1, quality="120p")
    rendition.refresh_from_db()
    assert rendition.status == RenditionStatus.READY
    assert _bucket_keys(film) == _row_keys(film)


def test_reprocess_makes_every_rendition_again(make_video, upload, run_jobs):
    film = Film.objects.create(title="Again", slug="again", source=upload(make_video()))
    run_jobs()
    first_key = Rendition.objects.get(film=film).media_key
    services.film_reprocess(film=film)
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.processing_note == ""
    assert film.source_version == 2
    assert Rendition.objects.get(film=film, retired_at=None).media_key != first_key
    _run_delayed_cleanups(run_jobs)
    assert _bucket_keys(film) == _row_keys(film)


def test_staff_uploaded_thumbnail_is_kept(make_video, upload, run_jobs, tmp_path):
    image = tmp_path / "mine.jpg"
    import subprocess

    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=red:s=64x36",
            "-frames:v",
            "1",
            str(image),
        ],
        check=True,
    )
    film = Film.objects.create(
        title="Mine",
        slug="mine",
        source=upload(make_video()),
        thumbnail=upload(image, name="mine.jpg"),
    )
    staff_key = film.thumbnail.name
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.processing_note == ""
    assert film.thumbnail.name == staff_key
    assert not film.thumbnail_generated
    assert film.poster_generated


def test_transient_storage_failure_is_retried_with_back_off_and_shown_to_staff(
    make_video, upload, run_jobs, storage_unreachable
):
    film = Film.objects.create(title="Flaky", slug="flaky", source=upload(make_video()))
    with storage_unreachable():
        run_jobs()
    queue = django_rq.get_queue("high")  # where probes go
    scheduled = queue.scheduled_job_registry
    retry_ids = [job_id for job_id in scheduled.get_job_ids() if "probe" in job_id]
    assert len(retry_ids) == 1
    job = queue.fetch_job(retry_ids[0])
    assert job is not None
    assert job.retries_left == RETRY.max - 1
    film.refresh_from_db()
    assert film.processing_state != ProcessingState.ERROR
    assert "storage unreachable, retry 1 at" in film.processing_note
    # S3 is back: the retry (moved forward instead of waiting out the back-off) succeeds.
    scheduled.requeue(retry_ids[0])
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.processing_note == ""
