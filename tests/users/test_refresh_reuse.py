"""Refresh-token rotation under concurrency: a grace period for one page's parallel calls,
and reuse detection (the whole sign-in revoked) for a token replayed after it."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.test import Client
from django.utils import timezone

from tests.users.conftest import PASSWORD, cookie, login
from users_app.models import LoginToken, User

ACCESS, REFRESH = "access_token", "refresh_token"
SPA = "http://localhost:4200"  # the SPA's origin: browsers send it on every API call


@pytest.fixture
def spa(settings: Any) -> requests.Session:
    """A browser session of an SPA on its own origin, as the API's clients run."""
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    session = requests.Session()
    session.headers["Origin"] = SPA
    return session


def refresh(client: Client) -> Any:
    return client.post("/api/users/refresh/", content_type="application/json")


def _age_rotations(seconds: int) -> None:
    LoginToken.objects.filter(rotated_at__isnull=False).update(
        rotated_at=timezone.now() - timedelta(seconds=seconds)
    )


def _with_refresh(raw: str) -> Client:
    client = Client()
    client.cookies[REFRESH] = raw
    return client


@pytest.mark.django_db
def test_a_token_rotated_within_the_grace_period_still_refreshes_the_same_viewer(
    client: Client, user: User
) -> None:
    old = cookie(login(client), REFRESH).value
    assert refresh(client).status_code == 200

    second = _with_refresh(old)
    response = refresh(second)

    assert response.status_code == 200
    assert second.get("/api/users/me/").json()["email"] == user.email
    assert refresh(second).status_code == 200  # the sibling token rotates normally too


@pytest.mark.django_db
def test_a_replay_after_the_grace_period_revokes_every_token_of_that_sign_in(
    client: Client, user: User
) -> None:
    old = cookie(login(client), REFRESH).value
    assert refresh(client).status_code == 200
    _age_rotations(31)

    assert refresh(_with_refresh(old)).status_code == 401
    assert refresh(client).status_code == 401  # the current token died with its family


@pytest.mark.django_db
def test_a_replay_leaves_the_viewers_other_sign_ins_alone(user: User) -> None:
    laptop, phone = Client(), Client()
    old = cookie(login(laptop), REFRESH).value
    login(phone)
    refresh(laptop)
    _age_rotations(31)

    refresh(_with_refresh(old))

    assert refresh(phone).status_code == 200


@pytest.mark.django_db
def test_the_grace_period_is_a_setting(client: Client, user: User, settings: Any) -> None:
    settings.JWT_REFRESH_GRACE_SECONDS = 120
    old = cookie(login(client), REFRESH).value
    refresh(client)
    _age_rotations(90)

    assert refresh(_with_refresh(old)).status_code == 200


@pytest.mark.django_db
def test_a_token_rotated_within_the_grace_period_is_dead_after_logout(
    client: Client, user: User
) -> None:
    old = cookie(login(client), REFRESH).value
    refresh(client)
    assert client.post("/api/users/logout/").status_code == 200

    assert refresh(_with_refresh(old)).status_code == 401


@pytest.mark.django_db
def test_a_token_rotated_within_the_grace_period_is_dead_after_a_password_change(
    client: Client, user: User
) -> None:
    old = cookie(login(client), REFRESH).value
    refresh(client)
    user.set_password("another-strong-pass-7")
    user.save()

    assert refresh(_with_refresh(old)).status_code == 401


def _concurrent_refreshes(url: str, raw: str, count: int) -> list[requests.Response]:
    """Send `count` refreshes with one cookie at once, each on its own connection."""
    barrier = threading.Barrier(count)
    responses: list[requests.Response] = []
    lock = threading.Lock()

    def send() -> None:
        session = requests.Session()
        session.headers["Origin"] = SPA
        session.cookies.set(REFRESH, raw)
        barrier.wait()
        response = session.post(f"{url}/api/users/refresh/", json={}, timeout=30)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_with_one_cookie_both_succeed(
    live_server: Any, spa: requests.Session
) -> None:
    User.objects.create_user(email="viewer@example.com", password=PASSWORD, is_active=True)
    browser = spa
    signed_in = browser.post(
        f"{live_server.url}/api/users/login/",
        json={"email": "viewer@example.com", "password": PASSWORD},
        timeout=30,
    )
    assert signed_in.status_code == 200

    current = str(signed_in.cookies[REFRESH])
    for attempt in range(3):  # several rounds: each must race and both win
        responses = _concurrent_refreshes(live_server.url, current, 2)
        assert [r.status_code for r in responses] == [200, 200], attempt
        for response in responses:
            me = requests.get(
                f"{live_server.url}/api/users/me/",
                cookies={ACCESS: str(response.cookies[ACCESS])},
                timeout=30,
            )
            assert me.json()["email"] == "viewer@example.com"
        current = str(responses[-1].cookies[REFRESH])


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_after_the_grace_period_all_fail(
    live_server: Any, spa: requests.Session
) -> None:
    User.objects.create_user(email="viewer@example.com", password=PASSWORD, is_active=True)
    browser = spa
    browser.post(
        f"{live_server.url}/api/users/login/",
        json={"email": "viewer@example.com", "password": PASSWORD},
        timeout=30,
    )
    old = str(browser.cookies[REFRESH])
    assert browser.post(f"{live_server.url}/api/users/refresh/", timeout=30).status_code == 200
    _age_rotations(31)

    responses = _concurrent_refreshes(live_server.url, old, 3)

    assert [r.status_code for r in responses] == [401, 401, 401]
    current = browser.post(f"{live_server.url}/api/users/refresh/", timeout=30)
    assert current.status_code == 401
