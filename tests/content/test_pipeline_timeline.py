"""Staff's processing timeline: each step's last attempt, its attempts, why it waits or failed."""

from __future__ import annotations

import django_rq
import pytest

from content_app import services
from content_app.models import Film, ProcessingStep
from content_app.uploads.status import TimelineEntry, film_timeline

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _by_step(film: Film) -> dict[str, tuple[str, int]]:
    film.refresh_from_db()
    return {entry.step: (entry.status, entry.attempts) for entry in film_timeline(film)}


def _step(film: Film, label: str) -> TimelineEntry:
    film.refresh_from_db()
    return next(entry for entry in film_timeline(film) if entry.step == label)


def test_a_processed_film_shows_every_step_done_once(make_video, upload, run_jobs):
    film = Film.objects.create(
        title="Timeline", slug="timeline", source=upload(make_video(width=1280, height=720))
    )
    run_jobs()
    assert _by_step(film) == {
        "Reading the source": ("done", 1),
        "120p rendition": ("done", 1),
        "Higher renditions (360p, 720p)": ("done", 1),
        "Thumbnail and poster": ("done", 1),
    }
    entries = film_timeline(film)
    assert all(e.started_at and e.finished_at and e.seconds is not None for e in entries)


def test_a_step_retried_after_storage_came_back_shows_its_attempts_and_the_wait(
    make_video, upload, run_jobs, storage_unreachable
):
    film = Film.objects.create(title="Retried", slug="retried", source=upload(make_video()))
    with storage_unreachable():
        run_jobs()  # the probe cannot read the source: a retry is scheduled
    probe = _step(film, "Reading the source")
    assert (probe.status, probe.attempts) == ("waiting for a retry", 1)
    assert probe.error.startswith("Reading the source: storage unreachable, retry 1 at ")
    scheduled = django_rq.get_queue("high").scheduled_job_registry
    for job_id in scheduled.get_job_ids():
        scheduled.requeue(job_id)
    run_jobs()
    probe = _step(film, "Reading the source")
    assert (probe.status, probe.attempts, probe.error) == ("done", 2, "")


def test_a_failed_step_shows_the_reason_staff_see(upload, run_jobs, tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video at all")
    film = Film.objects.create(title="Bogus", slug="bogus", source=upload(bogus))
    run_jobs()
    probe = _step(film, "Reading the source")
    film.refresh_from_db()
    assert (probe.status, probe.attempts) == ("failed", 1)
    assert probe.error == film.processing_error


def test_reprocessing_starts_a_fresh_timeline(make_video, upload, run_jobs):
    film = Film.objects.create(title="Fresh", slug="fresh", source=upload(make_video()))
    run_jobs()
    services.film_reprocess(film=film)
    assert not ProcessingStep.objects.filter(film=film).exists()
    assert {status for status, _ in _by_step(film).values()} == {"waiting"}
    run_jobs()
    assert set(
        ProcessingStep.objects.filter(film=film).values_list("source_version", flat=True)
    ) == {2}
