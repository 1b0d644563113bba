"""Reads about accounts shared by the API and the pages."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

from affea.db import CompiledLookup
from content_app.selectors import favorite_ids
from users_app.models import User

# Every authenticated request looks its user up by id, so that query is compiled once.
_USER_BY_ID = CompiledLookup(lambda pk: User.objects.filter(pk=pk))
_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]


def user_by_id(pk: int) -> User | None:
    rows = _USER_BY_ID.rows(pk)
    return User.from_db(DEFAULT_DB_ALIAS, _USER_FIELDS, rows[0]) if rows else None


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def user_email_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email.strip()).exists()


def user_profile(*, user: User) -> dict[str, object]:
    """The account payload of login and `me` (API.md)."""
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.display_name,
        "favorite_videos": favorite_ids(user=user),
    }
