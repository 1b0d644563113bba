"""The account payload of login and `me` (API.md), open to fields other apps add.

Apps above users_app (content's `favorite_videos`) register their fields from their
AppConfig.ready(), so users_app never imports them.
"""

from __future__ import annotations

from collections.abc import Callable

from users_app.models import User

ProfileField = Callable[[User], object]

BASE_FIELDS = ("id", "email", "username")

_fields: dict[str, ProfileField] = {}


def register_profile_field(name: str, value: ProfileField) -> None:
    """Add `name` to every profile, computed by `value(user)`; registering it again replaces it."""
    if name in BASE_FIELDS:
        raise ValueError(f"{name!r} is a base profile field.")
    _fields[name] = value


def user_profile(*, user: User) -> dict[str, object]:
    """The base fields, then the registered ones in registration order."""
    profile: dict[str, object] = {
        "id": user.pk,
        "email": user.email,
        "username": user.display_name,
    }
    for name, value in _fields.items():
        profile[name] = value(user)
    return profile
