"""The legal record is append-only: the model, the admin and the database all refuse changes."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from legal_app.models import LegalEvent, LegalEventKind
from legal_app.models.record import AppendOnly
from legal_app.record import event_record, events_for
from tests.content.factories import make_film, make_user
from users_app.models import User

pytestmark = pytest.mark.django_db


def make_superuser() -> User:
    return User.objects.create_superuser(email="admin@example.com", password="pw")


def _event(**fields: object) -> LegalEvent:
    return event_record(kind=LegalEventKind.TAKEDOWN, summary="Film 1 taken down", **fields)  # type: ignore[arg-type]


def test_an_event_names_its_actor_even_without_an_account() -> None:
    staff = make_user(staff=True)

    by_staff = _event(actor=staff, film_id=7)
    by_sender = _event(actor_label="Jo Sender <jo@example.com>")
    by_system = _event()

    assert by_staff.actor_label == staff.email
    assert by_sender.actor_label == "Jo Sender <jo@example.com>"
    assert by_system.actor_label == "system"
    assert list(events_for(film_id=7)) == [by_staff]


def test_the_model_refuses_to_update_or_delete_an_event() -> None:
    event = _event()
    event.summary = "rewritten"

    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        LegalEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(AppendOnly):
        LegalEvent.objects.all().delete()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE legal_app_legalevent SET summary = 'rewritten'",
        "DELETE FROM legal_app_legalevent",
    ],
)
def test_the_database_refuses_to_update_or_delete_an_event(statement: str) -> None:
    event = _event()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert LegalEvent.objects.get(pk=event.pk).summary == "Film 1 taken down"


def test_the_admin_shows_events_read_only() -> None:
    event = _event()
    client = Client()
    client.force_login(make_superuser())

    page = client.get(f"/admin/legal_app/legalevent/{event.pk}/change/")
    refused = client.post(f"/admin/legal_app/legalevent/{event.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert b'name="summary"' not in page.content
    assert refused.status_code == 403
    assert LegalEvent.objects.filter(pk=event.pk).exists()


def test_an_admin_edit_of_a_film_leaves_the_record_untouched() -> None:
    film = make_film(title="Before")
    _event(film_id=film.pk)
    before = list(LegalEvent.objects.values())
    client = Client()
    client.force_login(make_superuser())

    page = client.get(f"/admin/content_app/film/{film.pk}/change/")
    assert page.status_code == 200
    film.title = "After"
    film.save(update_fields=["title"])

    assert list(LegalEvent.objects.values()) == before
