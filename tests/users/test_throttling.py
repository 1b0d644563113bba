"""Throttles on the account endpoints, counted in the real Redis."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from django.test import Client, RequestFactory

from tests.users.conftest import PASSWORD, login
from users_app.models import User
from users_app.throttling import AccountThrottle, _key, client_ip

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight(settings: object) -> None:
    settings.ACCOUNT_THROTTLE_RATES = {  # type: ignore[attr-defined]
        "login": {"ip": (6, 60), "account": (3, 60)},
        "register": {"ip": (2, 60), "account": (2, 60)},
        "email_exists": {"ip": (2, 60), "account": (10, 60)},
        "forgot_password": {"ip": (10, 60), "account": (2, 60)},
        "confirm": {"ip": (2, 60), "account": (10, 60)},
        "reset_password": {"ip": (2, 60), "account": (10, 60)},
    }


def bad_login(client: Client, email: str = "viewer@example.com", ip: str = "10.0.0.1") -> Any:
    return client.post(
        "/api/users/login/",
        {"email": email, "password": "wrong-guess-000"},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def test_login_failures_lock_the_account_with_429_and_retry_after(
    client: Client, user: User, tight: None
) -> None:
    for _ in range(3):
        assert bad_login(client).status_code == 400
    response = bad_login(client)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "detail" in response.json()


def test_account_lockout_applies_from_every_ip(client: Client, user: User, tight: None) -> None:
    for n in range(3):
        bad_login(client, ip=f"10.0.1.{n}")
    assert login(client, REMOTE_ADDR="10.0.2.1").status_code == 429


def test_ip_limit_counts_failures_across_accounts(client: Client, tight: None) -> None:
    for n in range(6):
        assert bad_login(client, f"user{n}@example.com").status_code == 400
    assert bad_login(client, "other@example.com").status_code == 429


def test_a_successful_login_clears_the_accounts_failures(
    client: Client, user: User, tight: None
) -> None:
    bad_login(client)
    bad_login(client)
    assert login(client, REMOTE_ADDR="10.0.0.1").status_code == 200
    bad_login(client)
    bad_login(client)
    assert bad_login(client).status_code == 400


def test_lockout_cools_off_when_its_window_ends(
    client: Client, user: User, tight: None, redis_connection: redis.Redis
) -> None:
    for _ in range(3):
        bad_login(client)
    assert bad_login(client).status_code == 429
    # Time passes: Redis expires the window's keys (here, expired at once).
    for key in redis_connection.scan_iter("*:throttle:login:*"):
        redis_connection.expire(key, 0)
    assert login(client, REMOTE_ADDR="10.0.0.1").status_code == 200


def test_refused_attempts_do_not_extend_the_lockout(
    client: Client, user: User, tight: None, redis_connection: redis.Redis
) -> None:
    for _ in range(3):
        bad_login(client)
    key = next(iter(redis_connection.scan_iter("*:throttle:login:account:*")))
    redis_connection.expire(key, 5)
    for _ in range(5):
        assert bad_login(client).status_code == 429
    ttl = redis_connection.ttl(key)
    assert isinstance(ttl, int)
    assert 0 < ttl <= 5


def test_register_is_throttled_per_ip(client: Client, tight: None) -> None:
    for n in range(2):
        body = {"email": f"n{n}@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
        client.post("/api/users/register/", body, content_type="application/json")
    body = {"email": "late@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    response = client.post("/api/users/register/", body, content_type="application/json")
    assert response.status_code == 429
    assert response.has_header("Retry-After")


def test_email_exists_is_throttled_per_ip(client: Client, tight: None) -> None:
    for _ in range(2):
        client.get("/api/users/email-exists/", {"email": "a@example.com"})
    assert client.get("/api/users/email-exists/", {"email": "b@example.com"}).status_code == 429


def test_forgot_password_is_throttled_per_account(client: Client, tight: None) -> None:
    body = {"email": "victim@example.com"}
    for n in range(2):
        client.post(
            "/api/users/forgot-password/",
            body,
            content_type="application/json",
            REMOTE_ADDR=f"10.0.3.{n}",
        )
    response = client.post(
        "/api/users/forgot-password/", body, content_type="application/json", REMOTE_ADDR="10.0.3.9"
    )
    assert response.status_code == 429


def test_confirm_is_throttled_per_ip(client: Client, tight: None) -> None:
    body = {"uid": "MQ", "token": "abc-def"}
    for _ in range(2):
        assert (
            client.post("/api/users/confirm/", body, content_type="application/json").status_code
            == 400
        )
    assert (
        client.post("/api/users/confirm/", body, content_type="application/json").status_code == 429
    )


def test_forwarded_for_is_ignored_without_trusted_proxies(settings: object) -> None:
    settings.TRUSTED_PROXY_COUNT = 0  # type: ignore[attr-defined]
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.9.9.9"


def test_forwarded_for_gives_the_address_nginx_saw(settings: object) -> None:
    settings.TRUSTED_PROXY_COUNT = 1  # type: ignore[attr-defined]
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    assert client_ip(request) == "203.0.113.7"


def test_spoofed_forwarded_for_does_not_escape_the_ip_throttle(
    client: Client, tight: None, settings: object
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1  # type: ignore[attr-defined]
    for n in range(2):
        client.get(
            "/api/users/email-exists/",
            {"email": "a@example.com"},
            HTTP_X_FORWARDED_FOR=f"9.9.9.{n}, 203.0.113.7",
        )
    response = client.get(
        "/api/users/email-exists/",
        {"email": "a@example.com"},
        HTTP_X_FORWARDED_FOR="9.9.9.200, 203.0.113.7",
    )
    assert response.status_code == 429


def test_throttle_keys_hold_no_email_in_clear(tight: None) -> None:
    request = RequestFactory().post("/")
    throttle = AccountThrottle("login", request, "viewer@example.com")
    assert all("viewer" not in key for key in throttle.keys.values())
    assert throttle.keys["account"] == _key("login", "account", "VIEWER@example.com")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/users/register/", '{"email": "\\ud800x@example.com", "password": "x"}'),
        ("/api/users/confirm/", '{"uid": "\\ud800x", "token": "t"}'),
        ("/api/users/login/", '{"email": "\\ud800x@example.com", "password": "x"}'),
    ],
    ids=["register", "confirm", "login"],
)
def test_a_lone_surrogate_is_counted_and_refused_not_a_500(
    client: Client, path: str, body: str
) -> None:
    # Valid JSON, not valid UTF-8: the throttle keys it before any field is validated.
    response = client.generic("POST", path, body, content_type="application/json")

    assert 400 <= response.status_code < 500, response.content


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_get_past_the_account_limit(
    live_server: Any, user: User, tight: None, settings: Any
) -> None:
    # The password check takes time (the real hasher): before, every guess of a burst passed
    # the throttle's check while none had been counted yet (40 of 40 checked, limit 5).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user.set_password(PASSWORD)
    user.save()

    def guess(number: int) -> int:
        body = json.dumps({"email": user.email, "password": f"wrong-guess-{number}"}).encode()
        request = urllib.request.Request(
            f"{live_server.url}/api/users/login/", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-Forwarded-For": f"10.1.0.{number}"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(guess, range(12)))

    assert codes.count(400) == 3, codes  # the account's limit in `tight`
    assert codes.count(429) == 9, codes


@pytest.mark.parametrize("page", [False, True], ids=["API", "page"])
def test_reset_password_is_throttled_per_ip(client: Client, tight: None, page: bool) -> None:
    body = {"uid": "MQ", "token": "abc-def", "new_password": "lantern-harbour-58"}

    def attempt() -> int:
        if page:  # the mailed link, then the page it opens
            return client.get("/accounts/password/reset/MQ/abc-def/", follow=True).status_code
        return client.post(
            "/api/users/reset-password/", body, content_type="application/json"
        ).status_code

    assert [attempt(), attempt()] == [400, 400]
    assert attempt() == 429


def test_the_admin_sign_in_shares_the_login_throttle(client: Client, tight: None) -> None:
    staff = User.objects.create_superuser(email="boss@example.com", password=PASSWORD)

    def admin_login(password: str) -> Any:
        return client.post(
            "/admin/login/", {"username": staff.email, "password": password}, REMOTE_ADDR="10.0.9.1"
        )

    for _ in range(3):
        refused = admin_login("wrong-guess-000")
        assert refused.status_code == 200
        assert "password for a staff account" in refused.content.decode()
    # The account is locked now, even for its right password, as at the API's login.
    locked = admin_login(PASSWORD)
    assert locked.status_code == 200
    assert "Too many attempts. Try again in" in locked.content.decode()
    assert bad_login(client, email=staff.email).status_code == 429
