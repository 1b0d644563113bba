"""JWT authentication: CSRF for cookie-authenticated unsafe requests, Bearer, the SPA's
trusted origin, and which tokens and cookies authenticate whom."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from rest_framework.request import Request
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from content_app.models import Category, Favorite, Film
from tests.users.conftest import PASSWORD, login
from users_app.authentication import CookieJWTAuthentication
from users_app.jwt_tokens import token_pair_issue
from users_app.models import User

pytestmark = pytest.mark.django_db

SPA = "http://localhost:4200"


@pytest.fixture
def browser() -> Client:
    """A client that, like a browser, is subject to CSRF checks."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def spa_allowed(settings: object) -> None:
    settings.CORS_ALLOWED_ORIGINS = [SPA]  # type: ignore[attr-defined]


def test_jwt_cookie_post_from_a_foreign_origin_is_403(browser: Client, user: User) -> None:
    login(browser)
    response = browser.post("/api/users/logout/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_jwt_cookie_post_without_origin_or_csrf_token_is_403(browser: Client, user: User) -> None:
    login(browser)
    assert browser.post("/api/users/logout/").status_code == 403


def test_jwt_cookie_post_without_origin_but_with_a_csrf_token_is_accepted(
    browser: Client, user: User
) -> None:
    login(browser)
    browser.get("/accounts/login/")  # the page sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/api/users/logout/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_spa_flow_from_an_allowed_origin_works_without_a_csrf_token(
    browser: Client, user: User, spa_allowed: None
) -> None:
    response = browser.post(
        "/api/users/login/",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
        HTTP_ORIGIN=SPA,
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert browser.post("/api/users/refresh/", HTTP_ORIGIN=SPA).status_code == 200
    assert browser.post("/api/users/logout/", HTTP_ORIGIN=SPA).status_code == 200


def test_cors_preflight_allows_the_retry_header_for_the_spa(
    browser: Client, spa_allowed: None
) -> None:
    response = browser.options(
        "/api/users/me/",
        HTTP_ORIGIN=SPA,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-retry",
    )
    assert response.status_code == 200
    assert "x-retry" in response["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("https://app.example.com", 200),
        ("https://example.com", 200),
        ("http://app.example.com", 403),  # another scheme
        ("https://app.example.com.evil.test", 403),
        ("https://evilexample.com", 403),
    ],
)
def test_a_wildcard_csrf_trusted_origin_covers_its_subdomains_only(
    browser: Client, user: User, settings: object, origin: str, status: int
) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]  # type: ignore[attr-defined]
    response = browser.post(
        "/api/users/login/",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
        HTTP_ORIGIN=origin,
    )
    assert response.status_code == status
    if status == 200:
        assert browser.post("/api/users/logout/", HTTP_ORIGIN=origin).status_code == 200


def test_refresh_from_a_foreign_origin_is_403(browser: Client, user: User) -> None:
    login(browser)
    response = browser.post("/api/users/refresh/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403


def test_same_origin_post_with_the_jwt_cookie_is_accepted(browser: Client, user: User) -> None:
    login(browser)
    response = browser.post("/api/users/logout/", HTTP_ORIGIN="http://testserver")
    assert response.status_code == 200


def test_session_post_from_a_foreign_origin_is_403(browser: Client, user: User) -> None:
    browser.force_login(user)
    response = browser.post("/api/users/logout/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403


def test_session_authentication_lets_the_sites_pages_call_the_api(
    browser: Client, user: User
) -> None:
    browser.force_login(user)
    assert browser.get("/api/users/me/").json()["email"] == user.email


def test_bearer_post_needs_no_csrf_token(browser: Client, user: User) -> None:
    pair = token_pair_issue(user=user, remember=False)
    response = browser.post(
        "/api/users/logout/",
        HTTP_AUTHORIZATION=f"Bearer {pair.access}",
        HTTP_ORIGIN="https://elsewhere.example",
    )
    assert response.status_code == 200


def test_an_invalid_bearer_header_is_401(client: Client) -> None:
    response = client.get("/api/users/me/", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401


def test_a_non_bearer_authorization_header_leaves_the_cookie_in_charge(
    client: Client, user: User
) -> None:
    login(client)
    response = client.get("/api/users/me/", HTTP_AUTHORIZATION="Basic c3RhZ2U6c3RhZ2U=")
    assert response.status_code == 200


def _bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _with_access_cookie(token: str) -> Client:
    api = Client()
    api.cookies[settings.JWT_ACCESS_COOKIE] = token
    return api


def test_a_bearer_token_authenticates(client: Client, user: User) -> None:
    response = client.get("/api/users/me/", headers=_bearer(AccessToken.for_user(user)))
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_the_access_cookie_authenticates(user: User) -> None:
    response = _with_access_cookie(str(AccessToken.for_user(user))).get("/api/users/me/")
    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_a_token_of_a_deactivated_user_is_401(client: Client, user: User) -> None:
    token = AccessToken.for_user(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/api/users/me/", headers=_bearer(token)).status_code == 401
    assert _with_access_cookie(str(token)).get("/api/users/me/").status_code == 401


def test_a_token_of_a_deleted_user_is_401(client: Client, user: User) -> None:
    token = AccessToken.for_user(user)
    user.delete()
    assert client.get("/api/users/me/", headers=_bearer(token)).status_code == 401


def test_a_token_issued_before_a_password_change_is_401(client: Client, user: User) -> None:
    token = AccessToken.for_user(user)
    user.set_password("another-orchard-52")
    user.save(update_fields=["password"])
    assert client.get("/api/users/me/", headers=_bearer(token)).status_code == 401
    fresh = AccessToken.for_user(user)
    assert client.get("/api/users/me/", headers=_bearer(fresh)).status_code == 200


def test_an_expired_access_cookie_is_401_on_a_protected_endpoint(user: User) -> None:
    token = AccessToken.for_user(user)
    token.set_exp(from_time=aware_utcnow() - timedelta(hours=1))
    assert _with_access_cookie(str(token)).get("/api/users/me/").status_code == 401


@pytest.mark.parametrize("kind", ["garbage", "expired", "forged"])
def test_a_bad_access_cookie_leaves_the_request_anonymous(user: User, kind: str) -> None:
    token = AccessToken.for_user(user)
    forged = jwt.encode(token.payload, "not-the-signing-key-of-this-site-at-all", algorithm="HS256")
    token.set_exp(from_time=aware_utcnow() - timedelta(hours=1))
    raw = {"garbage": "nonsense", "expired": str(token), "forged": forged}[kind]
    api = _with_access_cookie(raw)
    # Anonymous, not an error: the next authenticator (the session) still gets its turn.
    api.force_login(user)
    response = api.get("/api/users/me/")
    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_a_bad_access_cookie_alone_authenticates_nobody(rf: RequestFactory) -> None:
    request = rf.get("/api/users/me/")
    request.COOKIES[settings.JWT_ACCESS_COOKIE] = "nonsense"
    assert CookieJWTAuthentication().authenticate(Request(request)) is None


@pytest.mark.parametrize("favourites", [0, 5])
def test_an_authenticated_request_takes_a_constant_number_of_queries(
    client: Client,
    user: User,
    favourites: int,
    django_assert_max_num_queries: Callable[[int], AbstractContextManager[object]],
) -> None:
    category = Category.objects.create(name="Drama", slug="drama")
    for n in range(favourites):
        film = Film.objects.create(title=f"Film {n}", slug=f"film-{n}", category=category)
        Favorite.objects.create(user=user, film=film)
    token = AccessToken.for_user(user)
    # The account (SimpleJWT's lookup), the favourite ids of the profile, and the current
    # terms version (the legal app's profile fields; cached after this first read).
    with django_assert_max_num_queries(3):
        response = client.get("/api/users/me/", headers=_bearer(token))
    assert len(response.json()["favorite_videos"]) == favourites
