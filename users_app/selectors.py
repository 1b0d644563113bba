"""Reads about accounts shared by the API and the pages."""

from __future__ import annotations

from content_app.models import Favorite
from users_app.models import User


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def user_email_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email.strip()).exists()


def user_favorite_film_ids(*, user: User) -> list[int]:
    """Return the ids of the films `user` marked as favourite, oldest first, in one query."""
    return list(
        Favorite.objects.filter(user=user)
        .order_by("created_at", "pk")
        .values_list("film_id", flat=True)
    )


def user_profile(*, user: User) -> dict[str, object]:
    """The account payload of login and `me` (API.md)."""
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.display_name,
        "favorite_videos": user_favorite_film_ids(user=user),
    }
