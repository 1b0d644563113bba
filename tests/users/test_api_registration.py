"""Register, email-exists and confirm through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.users.conftest import PASSWORD, Deliver, MakeUser, confirm_link_parts, login
from users_app.models import User
from users_app.tokens import TokenPurpose, token_make, uid_encode

pytestmark = pytest.mark.django_db


def register(client: Client, email: str = "new@example.com", **fields: str) -> Any:
    body = {"email": email, "password": PASSWORD, "confirm_password": PASSWORD, **fields}
    return client.post("/api/users/register/", body, content_type="application/json")


def test_register_creates_an_inactive_account_and_answers_201(client: Client) -> None:
    response = register(client, "New@Example.com")
    assert response.status_code == 201
    assert response.json() == {"email": "new@example.com"}
    user = User.objects.get(email="new@example.com")
    assert not user.is_active
    assert user.check_password(PASSWORD)


def test_only_ascii_letters_of_an_address_change_case(client: Client) -> None:
    # str.lower() made "İlker" "i̇lker" (two characters for İ): mail went to another address.
    response = register(client, "İlker@Example.com")

    assert response.status_code == 201
    assert response.json() == {"email": "İlker@example.com"}


def test_an_address_that_lowercasing_would_lengthen_is_not_a_500(client: Client) -> None:
    # 212 characters, 412 after str.lower(): past the column's 254, a DataError.
    response = register(client, "İ" * 200 + "@example.com")

    assert response.status_code in (201, 400), response.content


def test_register_rejects_a_taken_email_case_insensitively(client: Client, user: User) -> None:
    response = register(client, "VIEWER@example.com")
    assert response.status_code == 400
    assert list(response.json()) == ["email"]


def test_register_rejects_mismatched_confirmation(client: Client) -> None:
    response = register(client, confirm_password="something-else-12")
    assert response.status_code == 400
    assert "confirm_password" in response.json()


def test_register_applies_django_password_validators(client: Client) -> None:
    response = register(client, password="12345678", confirm_password="12345678")
    assert response.status_code == 400
    assert response.json()["password"]
    assert not User.objects.exists()


def test_register_rejects_an_invalid_email(client: Client) -> None:
    response = register(client, "not-an-email")
    assert response.status_code == 400
    assert "email" in response.json()


def test_register_with_a_non_object_body_is_a_400(client: Client) -> None:
    response = client.post("/api/users/register/", "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_register_mails_a_confirmation_link_that_activates_the_account(
    client: Client, deliver: Deliver
) -> None:
    deliver(lambda: register(client))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    response = client.post(
        "/api/users/confirm/", confirm_link_parts(), content_type="application/json"
    )
    assert response.status_code == 200
    assert "detail" in response.json()
    assert User.objects.get(email="new@example.com").is_active


def test_an_unconfirmed_account_cannot_log_in(client: Client) -> None:
    register(client)
    response = login(client, "new@example.com")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid credentials or inactive user."]}


def test_confirm_link_works_only_once(client: Client, make_user: MakeUser) -> None:
    user = make_user("new@example.com", active=False)
    body = {"uid": uid_encode(user), "token": token_make(user=user, purpose=TokenPurpose.CONFIRM)}
    assert (
        client.post("/api/users/confirm/", body, content_type="application/json").status_code == 200
    )
    again = client.post("/api/users/confirm/", body, content_type="application/json")
    assert again.status_code == 400
    assert "token" in again.json()


def test_confirm_link_expires_after_the_configured_days(
    client: Client, make_user: MakeUser, settings: object
) -> None:
    user = make_user("new@example.com", active=False)
    issued = timezone.now() - timedelta(days=3, minutes=1)
    token = token_make(user=user, purpose=TokenPurpose.CONFIRM, at=issued)
    body = {"uid": uid_encode(user), "token": token}
    response = client.post("/api/users/confirm/", body, content_type="application/json")
    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_confirm_refuses_a_tampered_token(client: Client, make_user: MakeUser) -> None:
    user = make_user("new@example.com", active=False)
    token = token_make(user=user, purpose=TokenPurpose.CONFIRM)
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    body = {"uid": uid_encode(user), "token": tampered}
    assert (
        client.post("/api/users/confirm/", body, content_type="application/json").status_code == 400
    )


def test_confirm_refuses_a_reset_token(client: Client, make_user: MakeUser) -> None:
    user = make_user("new@example.com", active=False)
    body = {"uid": uid_encode(user), "token": token_make(user=user, purpose=TokenPurpose.RESET)}
    assert (
        client.post("/api/users/confirm/", body, content_type="application/json").status_code == 400
    )


def test_confirm_refuses_a_jwt_access_token(client: Client, make_user: MakeUser) -> None:
    from rest_framework_simplejwt.tokens import AccessToken

    user = make_user("new@example.com", active=False)
    body = {"uid": uid_encode(user), "token": str(AccessToken.for_user(user))[:100]}
    assert (
        client.post("/api/users/confirm/", body, content_type="application/json").status_code == 400
    )


def test_confirm_with_garbage_uid_is_a_400(client: Client) -> None:
    body = {"uid": "%%%", "token": "abc-def"}
    assert (
        client.post("/api/users/confirm/", body, content_type="application/json").status_code == 400
    )


def test_confirm_does_not_reactivate_an_account_staff_deactivated(
    client: Client, make_user: MakeUser
) -> None:
    user = make_user("new@example.com", active=False)
    token = token_make(user=user, purpose=TokenPurpose.CONFIRM)
    body = {"uid": uid_encode(user), "token": token}
    client.post("/api/users/confirm/", body, content_type="application/json")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert (
        client.post("/api/users/confirm/", body, content_type="application/json").status_code == 400
    )
    assert not User.objects.get(pk=user.pk).is_active


def test_email_exists_answers_true_for_a_registered_address(client: Client, user: User) -> None:
    response = client.get("/api/users/email-exists/", {"email": "Viewer@Example.com"})
    assert response.status_code == 200
    assert response.json() == {"exists": True}


def test_email_exists_answers_false_for_an_unknown_address(client: Client) -> None:
    response = client.get("/api/users/email-exists/", {"email": "nobody@example.com"})
    assert response.json() == {"exists": False}


def test_email_exists_rejects_an_invalid_address(client: Client) -> None:
    response = client.get("/api/users/email-exists/", {"email": "nope"})
    assert response.status_code == 400
    assert "email" in response.json()
