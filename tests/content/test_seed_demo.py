"""`manage.py seed_demo`: a staff account, a category and one demo film, idempotently."""

from __future__ import annotations

import io

import django_rq
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from content_app.models import Category, Film, ProcessingState

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_staff_account_and_prints_its_credentials(settings):
    output = _seed()
    user = get_user_model().objects.get(email=settings.DEMO_STAFF_EMAIL)
    assert user.is_superuser
    assert user.is_staff
    assert user.is_active
    assert user.check_password(settings.DEMO_STAFF_PASSWORD)
    assert settings.DEMO_STAFF_EMAIL in output
    assert settings.DEMO_STAFF_PASSWORD in output


def test_seed_demo_saves_a_published_demo_film_and_enqueues_its_processing():
    _seed()
    film = Film.objects.get()
    assert film.is_published
    assert film.category == Category.objects.get(slug="demo")
    assert (film.source.name or "").startswith(f"films/{film.uuid}/source-")
    assert film.processing_state == ProcessingState.PENDING
    queue = django_rq.get_queue("high")
    assert [job.func_name for job in queue.get_jobs()] == ["content_app.tasks.process_saved_source"]


def test_seed_demo_twice_changes_nothing(settings):
    _seed()
    second = _seed()
    assert get_user_model().objects.count() == 1
    assert Film.objects.count() == 1
    assert Category.objects.count() == 1
    assert settings.DEMO_STAFF_PASSWORD not in second
