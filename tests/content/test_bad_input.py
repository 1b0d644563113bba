"""Bad sources: each ends in a clear state, and the worker goes on with the next job."""

from __future__ import annotations

import django_rq
import pytest
from rq.job import JobStatus

from content_app.models import Film, ProcessingState

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _process(upload_file, run_jobs) -> Film:
    film = Film.objects.create(title="Bad", slug="bad", source=upload_file)
    run_jobs()
    film.refresh_from_db()
    return film


def test_text_file_renamed_mp4_ends_in_error_saying_it_is_not_a_video(upload, run_jobs):
    film = _process(upload(content=b"hello, I am text\n" * 100, name="film.mp4"), run_jobs)
    assert film.processing_state == ProcessingState.ERROR
    assert "not a video" in film.processing_error


def test_zero_byte_file_ends_in_error_saying_it_is_empty(upload, run_jobs):
    film = _process(upload(content=b"", name="empty.mp4"), run_jobs)
    assert film.processing_state == ProcessingState.ERROR
    assert "empty" in film.processing_error


def test_truncated_video_ends_in_error_saying_it_is_incomplete(make_video, upload, run_jobs):
    data = make_video().read_bytes()
    # Cut before the index at the end (FFmpeg writes the moov atom last).
    film = _process(upload(content=data[: len(data) // 2], name="cut.mp4"), run_jobs)
    assert film.processing_state == ProcessingState.ERROR
    assert "incomplete or damaged" in film.processing_error


def test_audio_only_file_ends_in_error_saying_it_has_no_video(make_video, upload, run_jobs):
    film = _process(upload(make_video(video=False, container="m4a"), name="song.mp4"), run_jobs)
    assert film.processing_state == ProcessingState.ERROR
    assert "no video stream" in film.processing_error


def test_one_pixel_video_ends_in_error_naming_its_size(make_video, upload, run_jobs):
    film = _process(
        upload(make_video(width=1, height=1, seconds=0.5, audio=False, pattern="color")), run_jobs
    )
    assert film.processing_state == ProcessingState.ERROR
    assert "1x1 pixels" in film.processing_error


def test_8k_source_gets_the_whole_ladder_and_nothing_above_1080p(make_video, upload, run_jobs):
    source = make_video(width=7680, height=4320, seconds=0.1, audio=False, pattern="color")
    film = _process(upload(source, name="8k.mp4"), run_jobs)
    assert film.processing_state == ProcessingState.READY
    sizes = sorted(film.renditions.values_list("width", "height"))
    assert sizes == [(214, 120), (640, 360), (1280, 720), (1920, 1080)]


def test_file_name_with_path_and_shell_characters_is_never_used(make_video, upload, run_jobs):
    name = """../../etc/"it's" $(touch pwned); `id` | rm -rf *.mp4"""
    film = _process(upload(make_video(), name=name), run_jobs)
    assert film.processing_state == ProcessingState.READY
    key = film.source.name or ""
    assert key.startswith(f"films/{film.uuid}/source-")
    assert key.endswith(".mp4")
    assert ".." not in key
    assert "$" not in key


def test_permanent_failure_is_not_retried_and_the_worker_goes_on(make_video, upload, run_jobs):
    bad = Film.objects.create(title="Bad", slug="bad", source=upload(content=b"x" * 64))
    good = Film.objects.create(title="Good", slug="good", source=upload(make_video()))
    run_jobs()
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.processing_state == ProcessingState.ERROR
    assert good.processing_state == ProcessingState.READY
    queue = django_rq.get_queue("high")  # where probes go
    retries = [i for i in queue.scheduled_job_registry.get_job_ids() if i.startswith("film-")]
    assert retries == []
    assert queue.failed_job_registry.count == 0
    probe_jobs = [queue.fetch_job(i) for i in queue.finished_job_registry.get_job_ids()]
    assert all(job.get_status() == JobStatus.FINISHED for job in probe_jobs if job)


def test_playlist_pointing_at_local_files_ends_in_error_and_reads_nothing(upload, run_jobs):
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n/etc/passwd\n#EXT-X-ENDLIST\n"
    film = _process(upload(content=playlist, name="trick.m3u8"), run_jobs)
    assert film.processing_state == ProcessingState.ERROR
    assert "not a video" in film.processing_error
