"""Film signals only enqueue, after commit: processing of a saved source and clean-up."""

from __future__ import annotations

import ast
import inspect

import django_rq
import pytest
from django.db import transaction

from content_app import signals
from content_app.media import objects
from content_app.models import Film, ProcessingState

pytestmark = pytest.mark.django_db(transaction=True)


def _funcs() -> list[str | None]:
    queues = [django_rq.get_queue(name) for name in ("high", "default")]
    return [job.func_name for queue in queues for job in queue.jobs]


def test_signal_module_imports_nothing_of_ours_but_enqueue_helpers():
    tree = ast.parse(inspect.getsource(signals))
    ours = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("content_app")
        for alias in node.names
    }
    assert ours == {
        ("content_app.models", "Film"),
        ("content_app.pipeline", "enqueue_cleanup"),
        ("content_app.pipeline", "enqueue_source_saved"),
        ("content_app.pipeline", "film_prefix"),
    }
    plain = [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
    assert not [name for name in plain if name.startswith("content_app")]


def test_saving_a_new_source_writes_nothing_and_enqueues_one_job_after_commit(make_video, upload):
    with transaction.atomic():
        film = Film.objects.create(title="New", slug="new", source=upload(make_video()))
        assert _funcs() == []
    assert _funcs() == ["content_app.tasks.process_saved_source"]
    film.refresh_from_db()
    assert (film.source_version, film.processing_state) == (0, ProcessingState.PENDING)


def test_replacing_a_source_enqueues_deleting_the_old_one(make_video, upload, run_jobs):
    film = Film.objects.create(title="Old", slug="old", source=upload(make_video()))
    old_key = film.source.name
    film.source = upload(make_video(seconds=3.0), name="new.mp4")
    film.save()
    assert "content_app.tasks.delete_objects" in _funcs()
    run_jobs()
    assert old_key not in objects.list_keys(f"films/{film.uuid}/")


def test_deleting_a_film_enqueues_its_clean_up_after_commit(make_video, upload):
    film = Film.objects.create(title="Gone", slug="gone", source=upload(make_video()))
    django_rq.get_queue("high").empty()
    with transaction.atomic():
        film.delete()
        assert _funcs() == []
    assert _funcs() == ["content_app.tasks.delete_objects"]
