"""The rungs above the lowest come from one decode of the source, with a rung-by-rung fallback."""

from __future__ import annotations

import stat
from pathlib import Path

import django_rq
import pytest

from content_app import pipeline
from content_app.media import objects
from content_app.models import Film, ProcessingState, Rendition, RenditionStatus
from content_app.uploads.status import film_timeline

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _finished_jobs() -> set[str]:
    ids: set[str] = set()
    for name in ("high", "default"):
        ids |= set(django_rq.get_queue(name).finished_job_registry.get_job_ids())
    return ids


def _ffmpeg_refusing(tmp_path: Path, condition: str) -> str:
    """Real FFmpeg behind a wrapper that fails the runs matching a shell `condition` on "$*"
    with FFmpeg's own kind of message, as FFmpeg does for an output it cannot make."""
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if {condition}; then echo "Error initializing output stream 0:0" >&2; exit 1; fi\n'
        'exec ffmpeg "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper)


def _ladder(film: Film) -> dict[str, Rendition]:
    return {r.quality: r for r in Rendition.objects.filter(film=film)}


def test_higher_rungs_are_made_by_one_job_from_one_decode(make_video, upload, run_jobs):
    film = Film.objects.create(
        title="One decode", slug="one-decode", source=upload(make_video(width=1280, height=720))
    )
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    renditions = _ladder(film)
    assert sorted(renditions) == ["120p", "360p", "720p"]
    assert (renditions["720p"].width, renditions["720p"].height) == (1280, 720)
    assert (renditions["360p"].width, renditions["360p"].height) == (640, 360)
    assert all(r.status == RenditionStatus.READY and r.hls_segments for r in renditions.values())
    # The lowest rung alone, then the ladder's single job: no job per higher rung.
    jobs = _finished_jobs()
    assert {f"film-{film.pk}-v1-120p", f"film-{film.pk}-v1-ladder"} <= jobs
    assert not {f"film-{film.pk}-v1-360p", f"film-{film.pk}-v1-720p"} & jobs
    keys = set(objects.list_keys(pipeline.film_prefix(film)))
    for rendition in renditions.values():
        assert {rendition.media_key, rendition.playlist_key} <= keys


def test_a_failed_ladder_falls_back_to_one_job_per_rung_and_the_film_gets_ready(
    make_video, upload, run_jobs, settings, tmp_path
):
    # Any run writing more than one output fails; each rung on its own succeeds.
    settings.FFMPEG_BINARY = _ffmpeg_refusing(
        tmp_path, '[ "$(echo "$*" | grep -o " -f hls " | wc -l)" -gt 1 ]'
    )
    film = Film.objects.create(
        title="Fallback", slug="fallback", source=upload(make_video(width=1280, height=720))
    )
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    assert film.processing_error == ""
    renditions = _ladder(film)
    assert all(r.status == RenditionStatus.READY and not r.error for r in renditions.values())
    jobs = _finished_jobs()
    assert {f"film-{film.pk}-v1-360p", f"film-{film.pk}-v1-720p"} <= jobs
    # Staff's timeline says what happened.
    timeline = {entry.step: entry for entry in film_timeline(film)}
    ladder = timeline["Higher renditions (360p, 720p)"]
    assert ladder.status == "failed"
    assert ladder.error.endswith("Each rendition is now made on its own.")
    assert timeline["360p rendition on its own"].status == "done"
    assert timeline["720p rendition on its own"].status == "done"


def test_a_rung_failing_on_its_own_too_puts_the_film_in_error_naming_that_rung(
    make_video, upload, run_jobs, settings, tmp_path
):
    # Only the 720p rung (its 2800 kb/s cap) fails, alone or with the others.
    settings.FFMPEG_BINARY = _ffmpeg_refusing(tmp_path, 'echo "$*" | grep -q " 2800k "')
    film = Film.objects.create(
        title="Bad rung", slug="bad-rung", source=upload(make_video(width=1280, height=720))
    )
    run_jobs()
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.ERROR
    assert film.processing_error.startswith("720p rendition: ")
    renditions = _ladder(film)
    assert renditions["720p"].status == RenditionStatus.ERROR
    assert renditions["720p"].error
    assert renditions["120p"].status == RenditionStatus.READY


def test_running_a_finished_ladder_job_again_changes_nothing(make_video, upload, run_jobs):
    film = Film.objects.create(
        title="Twice", slug="twice", source=upload(make_video(width=1280, height=720))
    )
    run_jobs()
    before = {q: (r.media_key, r.finished_at) for q, r in _ladder(film).items()}
    pipeline.ladder_make(film_id=film.pk, version=1)
    assert {q: (r.media_key, r.finished_at) for q, r in _ladder(film).items()} == before


def test_progress_of_the_ladder_counts_every_rung_it_makes(make_video, upload):
    from content_app.pipeline.state import ProgressReporter

    film = Film.objects.create(title="Progress", slug="progress")
    for quality, height in (("120p", 120), ("360p", 360), ("720p", 720)):
        Rendition.objects.create(
            film=film, quality=quality, height=height, width=height * 16 // 9, source_version=1
        )
    Rendition.objects.filter(film=film, quality="120p").update(status=RenditionStatus.READY)
    Film.objects.filter(pk=film.pk).update(source_version=1)
    reporter = ProgressReporter(film.pk, 1, ["360p", "720p"])
    reporter(1.0)
    film.refresh_from_db()
    # Everything but the images (weight 0.5 of 8.61) is done.
    assert film.processing_progress == 93
