"""Account test helpers: users, an in-process RQ worker, cookie inspection."""

from __future__ import annotations

import re
from collections.abc import Callable
from http.cookies import Morsel
from typing import Any

import django_rq
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rq import SimpleWorker

from users_app.models import User

PASSWORD = "kettle-orchard-91"

MakeUser = Callable[..., User]
Deliver = Callable[[Callable[[], Any]], Any]


@pytest.fixture
def make_user(db: None) -> MakeUser:
    def make(email: str = "viewer@example.com", *, active: bool = True, **extra: object) -> User:
        return User.objects.create_user(
            email=email,
            password=PASSWORD,
            is_active=active,
            email_confirmed_at=timezone.now() if active else None,
            **extra,
        )

    return make


@pytest.fixture
def user(make_user: MakeUser) -> User:
    return make_user()


def run_queued_jobs() -> int:
    """Run every queued job in this process, like `rqworker --burst`; return how many ran."""
    queue = django_rq.get_queue("default")
    count = queue.count
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return count


@pytest.fixture
def deliver(django_capture_on_commit_callbacks: Any) -> Deliver:
    """Call `action` letting its on-commit hooks enqueue, then run the queued mail jobs."""

    def run(action: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            result = action()
        run_queued_jobs()
        return result

    return run


def link_from_outbox(pattern: str, index: int = -1) -> re.Match[str]:
    body = str(mail.outbox[index].body)
    match = re.search(pattern, body)
    assert match, body
    return match


def confirm_link_parts(index: int = -1) -> dict[str, str]:
    match = link_from_outbox(r"/accounts/confirm/(?P<uid>[^/]+)/(?P<token>[^/]+)/", index)
    return match.groupdict()


def reset_link_parts(index: int = -1) -> dict[str, str]:
    match = link_from_outbox(r"/accounts/password/reset/(?P<uid>[^/]+)/(?P<token>[^/]+)/", index)
    return match.groupdict()


def cookie(response: Any, name: str) -> Morsel[str]:
    return response.cookies[name]


def login(client: Client, email: str = "viewer@example.com", **extra: object) -> Any:
    return client.post(
        "/api/users/login/",
        {"email": email, "password": PASSWORD, **extra},
        content_type="application/json",
    )
