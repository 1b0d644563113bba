"""Licence windows: the scheduled job publishes and unpublishes at the edges, once each."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import django_rq
import pytest
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time
from rq import SimpleWorker
from rq.cron import CronScheduler

from content_app.models import Film
from legal_app.licences.tasks import sync_licences
from legal_app.models import LegalEvent, LegalEventKind

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime(2027, 3, 1, 12, 0), timezone.get_fixed_timezone(0))


def _film(**window: datetime | None) -> Film:
    return Film.objects.create(
        title="Harbour Lights",
        licence_starts_at=window.get("starts", T0),
        licence_ends_at=window.get("ends", T0 + timedelta(days=30)),
        **{key: value for key, value in window.items() if key not in ("starts", "ends")},
    )


def _events(kind: LegalEventKind, film: Film) -> list[LegalEvent]:
    return list(LegalEvent.objects.filter(kind=kind, film_id=film.pk))


def _run_at(moment: datetime) -> None:
    with freeze_time(moment):
        sync_licences()


def test_film_is_published_at_its_licence_start_once() -> None:
    film = _film()

    _run_at(T0 - timedelta(seconds=1))
    film.refresh_from_db()
    assert not film.is_published
    assert not _events(LegalEventKind.LICENCE_STARTED, film)

    _run_at(T0 + timedelta(seconds=30))
    _run_at(T0 + timedelta(seconds=90))

    film.refresh_from_db()
    assert film.is_published
    [event] = _events(LegalEventKind.LICENCE_STARTED, film)
    assert event.details["published"] is True
    assert event.actor_label == "licence scheduler"


def test_film_is_unpublished_at_its_licence_end_once() -> None:
    film = _film(starts=T0, ends=T0 + timedelta(hours=1))
    _run_at(T0)

    _run_at(T0 + timedelta(hours=1, seconds=20))
    _run_at(T0 + timedelta(hours=1, minutes=2))

    film.refresh_from_db()
    assert not film.is_published
    assert len(_events(LegalEventKind.LICENCE_ENDED, film)) == 1
    assert len(_events(LegalEventKind.LICENCE_STARTED, film)) == 1


def test_staff_unpublishing_inside_the_window_is_not_undone() -> None:
    film = _film()
    _run_at(T0)
    Film.objects.filter(pk=film.pk).update(is_published=False)

    _run_at(T0 + timedelta(minutes=5))

    film.refresh_from_db()
    assert not film.is_published


def test_taken_down_film_is_never_published_by_the_job() -> None:
    film = _film(taken_down_at=T0 - timedelta(days=1))

    _run_at(T0 + timedelta(minutes=1))

    film.refresh_from_db()
    assert not film.is_published
    assert not _events(LegalEventKind.LICENCE_STARTED, film)


def test_window_missed_entirely_by_an_outage_ends_without_publishing() -> None:
    film = _film(starts=T0, ends=T0 + timedelta(hours=1))

    _run_at(T0 + timedelta(hours=3))

    film.refresh_from_db()
    assert not film.is_published
    assert not _events(LegalEventKind.LICENCE_STARTED, film)
    [ended] = _events(LegalEventKind.LICENCE_ENDED, film)
    assert ended.details["unpublished"] is False


def test_a_new_window_is_carried_out_again() -> None:
    film = _film(starts=T0, ends=T0 + timedelta(hours=1))
    _run_at(T0)
    _run_at(T0 + timedelta(hours=1))
    Film.objects.filter(pk=film.pk).update(
        licence_starts_at=T0 + timedelta(days=2), licence_ends_at=None
    )

    _run_at(T0 + timedelta(days=2, seconds=5))

    film.refresh_from_db()
    assert film.is_published
    assert len(_events(LegalEventKind.LICENCE_STARTED, film)) == 2


def test_admin_film_list_shows_the_licence_window(admin_client: Client) -> None:
    _film(starts=T0, ends=None)

    page = admin_client.get("/admin/content_app/film/")

    assert "2027-03-01 12:00 → …" in page.content.decode()


def _licence_job(scheduler: CronScheduler) -> Any:
    [job] = [j for j in scheduler.get_jobs() if j.func_name.endswith("sync_licences")]
    return job


def test_cron_config_runs_the_job_every_minute_on_the_default_queue() -> None:
    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("affea.cron")

    job = _licence_job(scheduler)
    assert (job.func_name, job.queue_name, job.cron) == (
        "legal_app.licences.tasks.sync_licences",
        "default",
        "* * * * *",
    )
    with freeze_time(datetime(2027, 3, 1, 12, 0, 30, tzinfo=timezone.get_fixed_timezone(0))):
        assert job.get_next_enqueue_time() - timezone.now() <= timedelta(seconds=60)


def test_job_enqueued_by_cron_runs_on_a_worker() -> None:
    now = timezone.now()
    film = _film(starts=now - timedelta(seconds=5), ends=now + timedelta(days=1))
    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("affea.cron")
    job = _licence_job(scheduler)

    job.enqueue(scheduler.connection)
    queue = django_rq.get_queue("default")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)

    film.refresh_from_db()
    assert film.is_published


def test_procfile_and_compose_run_the_cron_scheduler() -> None:
    root = Path(__file__).resolve().parents[2]
    assert "rqcron affea.cron" in (root / "Procfile").read_text()
    assert "rqcron affea.cron" in (root / "entrypoint.sh").read_text()
