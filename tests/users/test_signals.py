"""The registration hook other apps (legal: terms acceptance) listen to."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.users.conftest import PASSWORD
from users_app.models import User
from users_app.services import user_register
from users_app.signals import user_registered

pytestmark = pytest.mark.django_db

BODY = {"email": "new@example.com", "password": PASSWORD, "confirm_password": PASSWORD}


def test_registration_sends_user_registered_with_the_new_user(client: Client) -> None:
    received: list[User] = []

    def receiver(sender: type[User], user: User, **kwargs: Any) -> None:
        received.append(user)

    user_registered.connect(receiver, weak=False)
    try:
        client.post("/api/users/register/", BODY, content_type="application/json")
    finally:
        user_registered.disconnect(receiver)
    assert [user.email for user in received] == ["new@example.com"]


def test_a_failing_receiver_rolls_the_registration_back() -> None:
    def receiver(sender: type[User], user: User, **kwargs: Any) -> None:
        raise RuntimeError("terms could not be recorded")

    user_registered.connect(receiver, weak=False)
    try:
        with pytest.raises(RuntimeError):
            user_register(email="new@example.com", password=PASSWORD)
    finally:
        user_registered.disconnect(receiver)
    assert not User.objects.filter(email="new@example.com").exists()
