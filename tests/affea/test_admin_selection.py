"""Admin actions sent with a selection that holds something other than ids."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from content_app.models import Film
from users_app.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changelist", "action"),
    [
        ("admin:content_app_film_changelist", "publish"),
        ("admin:legal_app_notice_changelist", "start_review"),
        ("admin:users_app_user_changelist", "delete_selected"),
    ],
)
def test_an_action_on_a_selection_that_is_not_ids_is_refused_with_a_message(
    client: Client, changelist: str, action: str
) -> None:
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="pw"))
    film = Film.objects.create(title="Kept", slug="kept")
    url = reverse(changelist)

    response = client.post(url, {"action": action, "_selected_action": [str(film.pk), "abc"]})

    assert response.status_code == 302
    assert response["Location"] == url
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == ["The selection holds something that is not an id."]
    assert not Film.objects.get(pk=film.pk).is_published


def test_every_admin_of_ours_checks_its_selection() -> None:
    from django.contrib import admin

    from affea.admin_selection import CheckedSelectionMixin

    ours = {
        model._meta.label: type(model_admin).__name__
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ("content_app", "legal_app", "users_app")
        and not isinstance(model_admin, CheckedSelectionMixin)
    }
    assert ours == {}
