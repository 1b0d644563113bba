"""JWT authentication: CSRF for cookie-authenticated unsafe requests, Bearer, the SPA's
trusted origin, remembered tokens and the account lookup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from tests.users.conftest import PASSWORD, login
from users_app import authentication
from users_app.jwt_tokens import token_pair_issue
from users_app.models import User
from users_app.selectors import user_by_id

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


def _me_with_access_cookie(token: str) -> int:
    api = Client()
    api.cookies["access_token"] = token
    return api.get("/api/users/me/").status_code


def test_a_remembered_access_token_still_expires(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = str(AccessToken.for_user(user))
    assert _me_with_access_cookie(token) == 200  # verified once, then remembered

    later = aware_utcnow() + AccessToken.lifetime + timedelta(seconds=1)
    monkeypatch.setattr(authentication, "aware_utcnow", lambda: later)

    assert _me_with_access_cookie(token) == 401


def test_a_tampered_access_token_is_refused_after_the_genuine_one_was_remembered(
    user: User,
) -> None:
    token = str(AccessToken.for_user(user))
    assert _me_with_access_cookie(token) == 200
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[::-1]])

    assert _me_with_access_cookie(forged) == 401


def test_the_account_lookup_gives_the_same_user_as_the_orm(user: User) -> None:
    found = user_by_id(user.pk)

    assert found is not None
    fields = [field.attname for field in User._meta.concrete_fields]
    expected = User.objects.get(pk=user.pk)
    assert [getattr(found, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert found._state.adding is False  # a saved instance: save() updates, never inserts
    assert user_by_id(user.pk + 10_000) is None
