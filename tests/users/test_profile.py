"""The account payload of login and `me`: base fields plus the fields other apps register."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from content_app.models import Category, Favorite, Film
from tests.users.conftest import login
from users_app import profile
from users_app.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def restore_fields() -> Iterator[None]:
    saved = dict(profile._fields)
    yield
    profile._fields.clear()
    profile._fields.update(saved)


def test_the_profile_carries_the_favourite_videos_content_registers(user: User) -> None:
    category = Category.objects.create(name="Drama", slug="drama")
    film = Film.objects.create(title="Film", slug="film", category=category)
    Favorite.objects.create(user=user, film=film)

    assert profile.user_profile(user=user) == {
        "id": user.pk,
        "email": user.email,
        "username": user.display_name,
        "favorite_videos": [film.pk],
        "terms_version": None,  # the legal app's fields; no terms are published here
        "terms_accepted": True,
    }


def test_login_and_me_answer_the_same_profile(client: Client, user: User) -> None:
    logged_in = login(client).json()
    assert client.get("/api/users/me/").json() == logged_in
    assert list(logged_in) == [
        "id",
        "email",
        "username",
        "favorite_videos",
        "terms_version",
        "terms_accepted",
    ]


def test_a_registered_field_is_added_after_the_base_fields(
    user: User, restore_fields: None
) -> None:
    profile.register_profile_field("initial", lambda account: account.email[0])
    assert list(profile.user_profile(user=user))[-1] == "initial"
    assert profile.user_profile(user=user)["initial"] == "v"


def test_registering_a_field_again_replaces_it(user: User, restore_fields: None) -> None:
    profile.register_profile_field("initial", lambda account: "first")
    profile.register_profile_field("initial", lambda account: "second")
    assert profile.user_profile(user=user)["initial"] == "second"


def test_a_base_field_cannot_be_registered(restore_fields: None) -> None:
    with pytest.raises(ValueError, match="base profile field"):
        profile.register_profile_field("email", lambda account: "spoofed")
