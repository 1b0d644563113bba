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


def test_a_sign_up_someone_else_made_with_my_address_is_mine_after_a_reset(
    client: Client, deliver: Deliver
) -> None:
    # The attacker signs up with the victim's address and a password of their choosing; the
    # victim, told the address is taken, asks for a reset. A confirmation link (as before)
    # activated the account with the attacker's password.
    attacker = Client()
    body = {"email": "victim@example.com", "password": "attacker-pass-123",
            "confirm_password": "attacker-pass-123"}  # fmt: skip
    attacker.post("/api/users/register/", body, content_type="application/json")
    mail.outbox.clear()

    deliver(lambda: forgot(client, "victim@example.com"))
    assert mail.outbox[-1].subject == "Reset your Affea password"
    assert reset(client, **reset_link_parts(), new_password=NEW_PASSWORD).status_code == 200

    victim = User.objects.get(email="victim@example.com")
    assert victim.is_active
    assert victim.email_confirmed_at is not None
    assert login(attacker, "victim@example.com", password="attacker-pass-123").status_code == 400
    assert login(Client(), "victim@example.com", password=NEW_PASSWORD).status_code == 200


def test_an_account_staff_deactivated_cannot_be_reactivated_by_any_link(
    client: Client, admin_client: Client, deliver: Deliver
) -> None:
    # Made by staff in the admin (no confirmation time was recorded), then deactivated: the
    # reset request mailed a confirmation link, which re-activated it.
    admin_client.post(
        "/admin/users_app/user/add/",
        {"email": "banned@example.com", "usable_password": "true",
         "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )  # fmt: skip
    User.objects.filter(email="banned@example.com").update(is_active=False)
    mail.outbox.clear()

    deliver(lambda: forgot(client, "banned@example.com"))

    assert mail.outbox == []
    banned = User.objects.get(email="banned@example.com")
    link = {
        "uid": uid_encode(banned),
        "token": token_make(user=banned, purpose=TokenPurpose.CONFIRM),
    }
    response = client.post("/api/users/confirm/", link, content_type="application/json")
    assert response.status_code == 400
    assert not User.objects.get(email="banned@example.com").is_active


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
