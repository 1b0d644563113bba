"""Login, refresh, logout and me: cookies, rotation, blacklisting, expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from content_app.models import Category, Favorite, Film
from tests.users.conftest import PASSWORD, MakeUser, cookie, login
from users_app.jwt_tokens import token_pair_issue
from users_app.models import LoginToken, User

pytestmark = pytest.mark.django_db

ACCESS, REFRESH = "access_token", "refresh_token"


def refresh(client: Client) -> Any:
    return client.post("/api/users/refresh/", content_type="application/json")


def test_login_answers_the_profile_and_sets_both_cookies(client: Client, user: User) -> None:
    response = login(client, "Viewer@Example.com")
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": "viewer@example.com",
        "username": "viewer",
        "favorite_videos": [],
        # Added by the legal app's profile fields; no terms are published here.
        "terms_version": None,
        "terms_accepted": True,
    }
    assert cookie(response, ACCESS).value
    assert cookie(response, REFRESH).value


def test_login_cookies_are_httponly_lax_path_root_with_api_lifetimes(
    client: Client, user: User
) -> None:
    response = login(client)
    access, refresh_cookie = cookie(response, ACCESS), cookie(response, REFRESH)
    for morsel in (access, refresh_cookie):
        header = morsel.OutputString()
        assert "HttpOnly" in header
        assert "Path=/" in header
        assert "SameSite=Lax" in header
        assert "Secure" not in header  # the test site runs on plain HTTP
    assert access["max-age"] == 300
    assert refresh_cookie["max-age"] == 3600


def test_remember_me_keeps_the_refresh_cookie_and_token_for_seven_days(
    client: Client, user: User
) -> None:
    response = login(client, remember=True)
    refresh_cookie = cookie(response, REFRESH)
    assert refresh_cookie["max-age"] == 7 * 86400
    token = RefreshToken(refresh_cookie.value)  # type: ignore[arg-type]
    assert token["exp"] - token["iat"] == 7 * 86400


def test_remember_me_survives_rotation(client: Client, user: User) -> None:
    login(client, remember=True)
    response = refresh(client)
    assert cookie(response, REFRESH)["max-age"] == 7 * 86400


def test_cookies_are_secure_and_samesite_from_settings(
    client: Client, user: User, settings: object
) -> None:
    settings.JWT_COOKIE_SECURE = True  # type: ignore[attr-defined]
    settings.JWT_COOKIE_SAMESITE = "None"  # type: ignore[attr-defined]
    header = cookie(login(client), REFRESH).OutputString()
    assert "Secure" in header
    assert "SameSite=None" in header


def test_login_lists_favourite_film_ids_in_one_query(
    client: Client, user: User, django_assert_max_num_queries: object
) -> None:
    category = Category.objects.create(name="Drama", slug="drama")
    films = [
        Film.objects.create(title=f"Film {n}", slug=f"film-{n}", category=category)
        for n in range(3)
    ]
    for film in films:
        Favorite.objects.create(user=user, film=film)
    response = login(client)
    assert response.json()["favorite_videos"] == [film.pk for film in films]
    with django_assert_max_num_queries(2):  # type: ignore[operator]
        # session-less JWT `me`: the user row, then the favourite ids
        me = client.get("/api/users/me/")
    assert me.json()["favorite_videos"] == [film.pk for film in films]


@pytest.mark.parametrize(
    ("email", "password"),
    [("viewer@example.com", "wrong-password-1"), ("nobody@example.com", "kettle-orchard-91")],
)
def test_login_failure_is_the_same_for_unknown_email_and_wrong_password(
    client: Client, user: User, email: str, password: str
) -> None:
    response = client.post(
        "/api/users/login/", {"email": email, "password": password}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid credentials or inactive user."]}
    assert ACCESS not in response.cookies


def test_login_without_fields_is_a_400_per_field(client: Client) -> None:
    response = client.post("/api/users/login/", {}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_me_with_the_access_cookie_answers_the_profile(client: Client, user: User) -> None:
    login(client)
    response = client.get("/api/users/me/")
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_me_without_credentials_is_401(client: Client) -> None:
    assert client.get("/api/users/me/").status_code == 401


def test_me_accepts_a_bearer_access_token(client: Client, user: User) -> None:
    pair = token_pair_issue(user=user, remember=False)
    response = client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert response.status_code == 200


def test_an_expired_access_cookie_is_401_on_me(client: Client, user: User) -> None:
    token = RefreshToken.for_user(user).access_token
    token.set_exp(from_time=aware_utcnow() - timedelta(minutes=6))
    client.cookies[ACCESS] = str(token)
    assert client.get("/api/users/me/").status_code == 401


def test_an_invalid_access_cookie_does_not_break_a_public_endpoint(client: Client) -> None:
    client.cookies[ACCESS] = "not-a-jwt"
    response = client.get("/api/users/email-exists/", {"email": "a@example.com"})
    assert response.status_code == 200


def test_a_refresh_token_is_not_accepted_as_an_access_token(client: Client, user: User) -> None:
    pair = token_pair_issue(user=user, remember=False)
    client.cookies[ACCESS] = pair.refresh
    assert client.get("/api/users/me/").status_code == 401
    response = client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {pair.refresh}")
    assert response.status_code == 401


def test_refresh_rotates_both_cookies(client: Client, user: User) -> None:
    first = login(client)
    response = refresh(client)
    assert response.status_code == 200
    assert "detail" in response.json()
    assert cookie(response, REFRESH).value != cookie(first, REFRESH).value
    assert cookie(response, ACCESS).value
    assert client.get("/api/users/me/").status_code == 200


def test_reusing_a_rotated_refresh_token_after_the_grace_period_is_401(
    client: Client, user: User
) -> None:
    old = cookie(login(client), REFRESH).value
    assert refresh(client).status_code == 200
    LoginToken.objects.filter(rotated_at__isnull=False).update(
        rotated_at=timezone.now() - timedelta(seconds=31)
    )
    replay = Client()
    replay.cookies[REFRESH] = old
    assert refresh(replay).status_code == 401


def test_refresh_without_a_cookie_is_401(client: Client) -> None:
    assert refresh(client).status_code == 401


def test_an_access_token_is_refused_as_a_refresh_token(client: Client, user: User) -> None:
    client.cookies[REFRESH] = token_pair_issue(user=user, remember=False).access
    assert refresh(client).status_code == 401


def test_an_expired_refresh_token_is_401(client: Client, user: User) -> None:
    token = RefreshToken.for_user(user)
    token.set_exp(from_time=aware_utcnow() - timedelta(hours=2))
    client.cookies[REFRESH] = str(token)
    assert refresh(client).status_code == 401


def test_a_tampered_refresh_token_is_401(client: Client, user: User) -> None:
    raw = cookie(login(client), REFRESH).value
    header, payload, signature = raw.split(".")
    client.cookies[REFRESH] = f"{header}.{payload}.{signature[::-1]}"
    assert refresh(client).status_code == 401


def test_refresh_for_a_deactivated_user_is_401(client: Client, user: User) -> None:
    login(client)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert refresh(client).status_code == 401


def test_logout_blacklists_the_refresh_token_and_deletes_both_cookies(
    client: Client, user: User
) -> None:
    old = cookie(login(client), REFRESH).value
    response = client.post("/api/users/logout/")
    assert response.status_code == 200
    for name in (ACCESS, REFRESH):
        morsel = cookie(response, name)
        assert morsel.value == ""
        assert morsel["max-age"] == 0
        assert "Path=/" in morsel.OutputString()
    replay = Client()
    replay.cookies[REFRESH] = old
    assert refresh(replay).status_code == 401


def test_logout_without_signing_in_is_401_and_still_deletes_the_cookies(client: Client) -> None:
    client.cookies[REFRESH] = "not-a-token"
    response = client.post("/api/users/logout/")
    assert response.status_code == 401
    assert "detail" in response.json()
    assert cookie(response, ACCESS).value == cookie(response, REFRESH).value == ""
    assert cookie(response, REFRESH)["max-age"] == 0


def test_logout_with_only_the_refresh_cookie_revokes_it_and_deletes_both(
    client: Client, user: User
) -> None:
    old = cookie(login(client), REFRESH).value
    del client.cookies[ACCESS]  # expired after 5 idle minutes: the browser dropped it

    response = client.post("/api/users/logout/")

    assert response.status_code == 200
    assert cookie(response, ACCESS).value == cookie(response, REFRESH).value == ""
    replay = Client()
    replay.cookies[REFRESH] = old
    assert refresh(replay).status_code == 401


def test_logout_with_a_revoked_refresh_cookie_alone_is_401(client: Client, user: User) -> None:
    old = cookie(login(client), REFRESH).value
    assert client.post("/api/users/logout/").status_code == 200
    stale = Client()
    stale.cookies[REFRESH] = old

    assert stale.post("/api/users/logout/").status_code == 401


def test_logout_with_the_access_cookie_alone_ends_the_whole_sign_in(
    client: Client, user: User
) -> None:
    old = cookie(login(client), REFRESH).value
    del client.cookies[REFRESH]

    assert client.post("/api/users/logout/").status_code == 200
    replay = Client()
    replay.cookies[REFRESH] = old
    assert refresh(replay).status_code == 401


def test_an_account_staff_added_with_capitals_can_log_in(admin_client: Client) -> None:
    admin_client.post(
        "/admin/users_app/user/add/",
        {"email": "New.Staff@Example.COM", "usable_password": "true",
         "password1": PASSWORD, "password2": PASSWORD},
    )  # fmt: skip
    assert User.objects.filter(email="new.staff@example.com").exists()

    for typed in ("New.Staff@Example.COM", "new.staff@example.com"):
        client = Client()
        assert login(client, typed).status_code == 200, typed


def test_a_bad_bearer_header_does_not_stop_logout(client: Client, user: User) -> None:
    old = cookie(login(client), REFRESH).value

    response = client.post("/api/users/logout/", HTTP_AUTHORIZATION="Bearer garbage")

    assert response.status_code == 200
    assert cookie(response, ACCESS).value == cookie(response, REFRESH).value == ""
    replay = Client()
    replay.cookies[REFRESH] = old
    assert refresh(replay).status_code == 401


def test_changing_the_password_ends_access_tokens(client: Client, make_user: MakeUser) -> None:
    user = make_user()
    login(client)
    user.set_password("another-strong-pass-7")
    user.save()
    assert client.get("/api/users/me/").status_code == 401
    assert refresh(client).status_code == 401
