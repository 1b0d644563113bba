"""Forgot and reset password through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.users.conftest import (
    Deliver,
    MakeUser,
    confirm_link_parts,
    cookie,
    login,
    reset_link_parts,
)
from users_app.models import User
from users_app.tokens import TokenPurpose, token_make, uid_encode

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-harbour-58"


def forgot(client: Client, email: str) -> Any:
    return client.post(
        "/api/users/forgot-password/", {"email": email}, content_type="application/json"
    )


def reset(client: Client, **body: str) -> Any:
    return client.post("/api/users/reset-password/", body, content_type="application/json")


def test_forgot_password_answers_the_same_for_known_and_unknown_accounts(
    client: Client, user: User, deliver: Deliver
) -> None:
    known = deliver(lambda: forgot(client, "viewer@example.com"))
    unknown = deliver(lambda: forgot(client, "nobody@example.com"))
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert [message.to for message in mail.outbox] == [["viewer@example.com"]]


def test_forgot_password_rejects_an_invalid_email(client: Client) -> None:
    response = forgot(client, "nope")
    assert response.status_code == 400
    assert "email" in response.json()


def test_forgot_password_for_an_unconfirmed_account_resends_the_confirmation(
    client: Client, make_user: MakeUser, deliver: Deliver
) -> None:
    make_user("new@example.com", active=False)
    deliver(lambda: forgot(client, "new@example.com"))
    assert confirm_link_parts()


def test_reset_password_sets_the_new_password(client: Client, user: User, deliver: Deliver) -> None:
    deliver(lambda: forgot(client, "viewer@example.com"))
    response = reset(client, **reset_link_parts(), new_password=NEW_PASSWORD)
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_reset_password_blacklists_every_refresh_token_of_the_user(
    client: Client, user: User
) -> None:
    sessions = [Client(), Client()]
    for session in sessions:
        login(session)
    user.refresh_from_db()  # logging in changed last_login, which reset tokens sign
    parts = {"uid": uid_encode(user), "token": token_make(user=user, purpose=TokenPurpose.RESET)}
    assert reset(client, **parts, new_password=NEW_PASSWORD).status_code == 200
    for session in sessions:
        assert session.post("/api/users/refresh/").status_code == 401


def test_reset_link_works_once(client: Client, user: User) -> None:
    parts = {"uid": uid_encode(user), "token": token_make(user=user, purpose=TokenPurpose.RESET)}
    assert reset(client, **parts, new_password=NEW_PASSWORD).status_code == 200
    again = reset(client, **parts, new_password="another-harbour-59")
    assert again.status_code == 400
    assert "token" in again.json()


def test_reset_link_expires(client: Client, user: User) -> None:
    issued = timezone.now() - timedelta(days=3, seconds=1)
    token = token_make(user=user, purpose=TokenPurpose.RESET, at=issued)
    response = reset(client, uid=uid_encode(user), token=token, new_password=NEW_PASSWORD)
    assert response.status_code == 400


def test_reset_refuses_a_confirmation_token(client: Client, user: User) -> None:
    token = token_make(user=user, purpose=TokenPurpose.CONFIRM)
    response = reset(client, uid=uid_encode(user), token=token, new_password=NEW_PASSWORD)
    assert response.status_code == 400


def test_reset_refuses_a_weak_password_per_field(client: Client, user: User) -> None:
    token = token_make(user=user, purpose=TokenPurpose.RESET)
    response = reset(client, uid=uid_encode(user), token=token, new_password="123")
    assert response.status_code == 400
    assert response.json()["new_password"]
    user.refresh_from_db()
    assert not user.check_password("123")


def test_reset_refuses_a_refresh_jwt_as_token(client: Client, user: User) -> None:
    raw = cookie(login(Client()), "refresh_token").value
    response = reset(client, uid=uid_encode(user), token=raw[:100], new_password=NEW_PASSWORD)
    assert response.status_code == 400


def test_forgot_password_request_does_the_same_work_for_known_and_unknown_accounts(
    client: Client, user: User
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as known:
        forgot(client, "viewer@example.com")
    with CaptureQueriesContext(connection) as unknown:
        forgot(client, "nobody@example.com")
    # The account is looked up by the mail job, never in the request.
    assert len(known.captured_queries) == len(unknown.captured_queries) == 0
