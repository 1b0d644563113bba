"""Priority across films: what makes a film playable runs ahead of every film's higher rungs."""

from __future__ import annotations

import django_rq
import pytest
from django.db import transaction

from content_app.models import Film, ProcessingState, RenditionStatus
from content_app.pipeline.queue import QUEUE, QUEUE_HIGH, step_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _ready(film: Film) -> list[str]:
    return sorted(
        film.renditions.filter(status=RenditionStatus.READY).values_list("quality", flat=True)
    )


def test_starting_probing_lowest_rung_and_images_go_to_the_high_queue():
    assert [step_queue(step) for step in ("probe", "120p", "images")] == [QUEUE_HIGH] * 3
    assert [step_queue(step) for step in ("360p", "720p", "1080p")] == [QUEUE] * 3


def test_second_films_probe_and_lowest_rung_run_before_the_first_films_higher_rungs(
    make_video, upload, run_jobs
):
    worker = django_rq.get_worker(QUEUE_HIGH, QUEUE, worker_class="rq.SimpleWorker")
    first = Film.objects.create(
        title="First", slug="first", source=upload(make_video(width=640, height=360))
    )
    # Saved source, probe, 120p, images: the first film is playable, its ladder still queued.
    worker.work(burst=True, max_jobs=4, with_scheduler=False)
    assert _ready(first) == ["120p"]
    assert django_rq.get_queue(QUEUE).job_ids == [f"film-{first.pk}-v1-ladder"]

    second = Film.objects.create(
        title="Second", slug="second", source=upload(make_video(width=640, height=360, seconds=3))
    )
    # One worker, three jobs: the second film's saved source, probe and 120p, not first's 360p.
    worker.work(burst=True, max_jobs=3, with_scheduler=False)
    assert _ready(second) == ["120p"]
    assert _ready(first) == ["120p"]

    run_jobs()
    for film in (first, second):
        film.refresh_from_db()
        assert film.processing_state == ProcessingState.READY
        assert _ready(film) == ["120p", "360p"]


def test_films_saved_together_are_all_playable_before_any_gets_its_images(
    make_video, upload, run_jobs
):
    worker = django_rq.get_worker(QUEUE_HIGH, QUEUE, worker_class="rq.SimpleWorker")
    with transaction.atomic():
        films = [
            Film.objects.create(
                title=f"Batch {n}", slug=f"batch-{n}", source=upload(make_video(seconds=2))
            )
            for n in range(2)
        ]
    # Two saved sources, two probes, two lowest rungs: every film is playable and each
    # one's images wait behind the other's lowest rung.
    worker.work(burst=True, max_jobs=6, with_scheduler=False)
    for film in films:
        film.refresh_from_db()
        assert _ready(film) == ["120p"]
        assert not film.thumbnail
    assert django_rq.get_queue(QUEUE_HIGH).job_ids == [
        f"film-{film.pk}-v1-images" for film in films
    ]

    run_jobs()
    for film in films:
        film.refresh_from_db()
        assert film.processing_state == ProcessingState.READY
        assert film.thumbnail
