"""The account pages: forms, links from the outbox, session login, account settings."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from content_app.models import Category, Favorite, Film
from tests.users.conftest import PASSWORD, Deliver, MakeUser, confirm_link_parts, reset_link_parts
from users_app.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-harbour-58"


def test_signup_page_registers_and_mails_the_confirmation(client: Client, deliver: Deliver) -> None:
    assert client.get("/accounts/signup/").status_code == 200
    body = {
        "email": "page@example.com",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        "accept_terms": "on",
    }
    response = deliver(lambda: client.post("/accounts/signup/", body))
    assert response.status_code == 200
    assert b"Check your mail" in response.content
    assert not User.objects.get(email="page@example.com").is_active
    assert mail.outbox[0].to == ["page@example.com"]


def test_signup_page_shows_field_errors(client: Client, user: User) -> None:
    body = {"email": user.email, "password": "123", "confirm_password": "124"}
    response = client.post("/accounts/signup/", body)
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert b"do not match" in response.content


def test_confirm_page_shows_a_button_and_confirms_on_post(
    client: Client, make_user: MakeUser
) -> None:
    from users_app.tasks import send_confirmation_mail

    user = make_user("new@example.com", active=False)
    send_confirmation_mail(user.pk)
    parts = confirm_link_parts()
    opened = client.get(f"/accounts/confirm/{parts['uid']}/{parts['token']}/")
    # The token moves into the session; the page's own URL no longer carries it.
    url = f"/accounts/confirm/{parts['uid']}/go/"
    assert opened["Location"] == url
    assert client.get(url).status_code == 200
    user.refresh_from_db()
    assert not user.is_active  # opening the link alone does not use it
    response = client.post(url)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active
    assert client.post(url).status_code == 400


def test_a_link_page_without_its_token_in_the_session_is_refused(
    client: Client, user: User
) -> None:
    from users_app.tokens import uid_encode

    assert client.post(f"/accounts/confirm/{uid_encode(user)}/go/").status_code == 400


def test_login_page_signs_in_with_a_session_and_redirects_to_next(
    client: Client, user: User
) -> None:
    response = client.post(
        "/accounts/login/",
        {"email": "viewer@example.com", "password": PASSWORD, "next": "/accounts/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200


def test_login_page_refuses_an_offsite_next(client: Client, user: User) -> None:
    response = client.post(
        "/accounts/login/",
        {"email": "viewer@example.com", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_login_page_shows_one_error_for_bad_credentials(client: Client, user: User) -> None:
    response = client.post("/accounts/login/", {"email": user.email, "password": "nope-nope"})
    assert response.status_code == 200
    assert b"Invalid credentials or inactive user." in response.content


def test_login_page_is_throttled(client: Client, user: User, settings: object) -> None:
    settings.ACCOUNT_THROTTLE_RATES = {  # type: ignore[attr-defined]
        **settings.ACCOUNT_THROTTLE_RATES,  # type: ignore[attr-defined]
        "login": {"ip": (10, 60), "account": (1, 60)},
    }
    client.post("/accounts/login/", {"email": user.email, "password": "nope-nope"})
    response = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.has_header("Retry-After")


def test_logout_page_ends_the_session(client: Client, user: User) -> None:
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 302


def test_each_field_of_the_account_page_has_its_own_id_and_label(
    client: Client, user: User
) -> None:
    client.force_login(user)

    page = client.get("/accounts/").content.decode()

    ids = re.findall(r'<input[^>]* id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), ids
    for field_id in ids:
        assert f'for="{field_id}"' in page, field_id  # the delete form's password had none


def test_account_page_requires_login(client: Client) -> None:
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_forgot_and_reset_password_pages(client: Client, user: User, deliver: Deliver) -> None:
    response = deliver(lambda: client.post("/accounts/password/forgot/", {"email": user.email}))
    assert b"If an account exists" in response.content
    assert b"<title>Check your mail" in response.content
    assert b"<h1>Check your mail</h1>" in response.content
    parts = reset_link_parts()
    opened = client.get(f"/accounts/password/reset/{parts['uid']}/{parts['token']}/")
    url = opened["Location"]
    assert parts["token"] not in url
    assert client.get(url).status_code == 200
    response = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(url).status_code == 400


def test_change_email_waits_for_the_new_address_to_confirm(
    client: Client, user: User, deliver: Deliver
) -> None:
    client.force_login(user)
    body = {"new_email": "fresh@example.com", "current_password": PASSWORD}
    response = deliver(lambda: client.post("/accounts/email/", body))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "viewer@example.com"
    link = mail.outbox[0].body.split("/accounts/email/confirm/")[1].split()[0]
    url = client.get(f"/accounts/email/confirm/{link}")["Location"]
    assert client.post(url).status_code == 302
    user.refresh_from_db()
    assert user.email == "fresh@example.com"
    assert client.post(url).status_code == 400


def test_change_email_needs_the_current_password(client: Client, user: User) -> None:
    client.force_login(user)
    body = {"new_email": "fresh@example.com", "current_password": "wrong-one"}
    response = client.post("/accounts/email/", body)
    assert response.status_code == 400
    assert b"current password is not correct" in response.content


def test_change_password_keeps_this_session_and_revokes_jwt_sessions(
    client: Client, user: User
) -> None:
    from tests.users.conftest import login

    spa = Client()
    login(spa)
    client.force_login(user)
    body = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post("/accounts/password/", body).status_code == 302
    assert client.get("/accounts/").status_code == 200
    assert spa.post("/api/users/refresh/").status_code == 401


def test_delete_account_removes_the_user_and_its_data(client: Client, user: User) -> None:
    category = Category.objects.create(name="Drama", slug="drama")
    film = Film.objects.create(title="Film", slug="film", category=category)
    Favorite.objects.create(user=user, film=film)
    client.force_login(user)
    body = {"current_password": PASSWORD, "confirm": "on"}
    assert client.post("/accounts/delete/", body).status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Favorite.objects.exists()
    assert client.get("/accounts/").status_code == 302


def test_delete_account_needs_confirmation(client: Client, make_user: MakeUser) -> None:
    user = make_user()
    client.force_login(user)
    response = client.post("/accounts/delete/", {"current_password": PASSWORD})
    assert response.status_code == 400
    assert User.objects.filter(pk=user.pk).exists()
