"""Reads about accounts shared by the API and the pages."""

from __future__ import annotations

from users_app.models import User


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def user_email_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email.strip()).exists()
