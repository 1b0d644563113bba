"""Receivers of users_app's signals; connected in LegalAppConfig.ready()."""

from __future__ import annotations

from django.http import HttpRequest

from legal_app.terms.services import request_ip, terms_accept_current
from users_app.models import User


def on_user_registered(
    sender: type[User], *, user: User, request: HttpRequest | None = None, **kwargs: object
) -> None:
    """Registering is accepting the current terms: record it inside the registration."""
    terms_accept_current(user=user, ip=request_ip(request))
