"""Addresses and links that other spellings of an account must not escape or capture.

PostgreSQL finds accounts in any case with UPPER(), where U+017F (long s) reads as "s" and
U+0131 (dotless i) as "i"; base64 and ids take more than one spelling of a user id.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from tests.users.conftest import PASSWORD, run_queued_jobs
from users_app.models import User, email_letters_unambiguous
from users_app.tokens import uid_decode, uid_encode

pytestmark = pytest.mark.django_db
LONG_S, DOTLESS_I, KELVIN = "\u017f", "\u0131", "\u212a"


@pytest.fixture
def tight(settings: Any) -> None:
    settings.ACCOUNT_THROTTLE_RATES = {
        **settings.ACCOUNT_THROTTLE_RATES,
        "login": {"ip": (1000, 60), "account": (3, 60)},
        "forgot_password": {"ip": (1000, 60), "account": (2, 60)},
        "reset_password": {"ip": (1000, 60), "account": (2, 60)},
    }


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


@pytest.mark.parametrize(
    ("email", "unambiguous"),
    [
        ("test@example.com", True),
        ("josé@exemple.fr", True),
        ("straße@example.de", True),
        (f"te{LONG_S}t@example.com", False),
        (f"l{DOTLESS_I}sa@example.com", False),
        (f"{KELVIN}im@example.com", False),
    ],
)
def test_letters_that_read_as_others_when_case_is_ignored_are_told_apart(
    email: str, unambiguous: bool
) -> None:
    assert email_letters_unambiguous(email) is unambiguous


def test_no_one_can_take_an_address_by_a_lookalike_spelling(client: Client) -> None:
    body = {"email": f"te{LONG_S}t@example.com", "password": PASSWORD, "confirm_password": PASSWORD}

    refused = _post(client, "/api/users/register/", body)

    assert refused.status_code == 400
    assert "reads as another one when case is ignored" in refused.json()["email"][0]
    assert not User.objects.exists()
    owner = _post(client, "/api/users/register/", {**body, "email": "test@example.com"})
    assert owner.status_code == 201


def test_the_sign_up_page_refuses_a_lookalike_spelling(client: Client) -> None:
    page = client.post(
        "/accounts/signup/",
        {
            "email": f"l{DOTLESS_I}sa@example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "accept_terms": "on",
        },
    )

    assert "reads as another one when case is ignored" in page.content.decode()
    assert not User.objects.exists()


def test_a_lookalike_spelling_counts_against_the_accounts_login_limit(
    client: Client, tight: None
) -> None:
    User.objects.create_user(email="sis@example.com", password=PASSWORD, is_active=True)
    wrong = {"password": "not-the-password-1"}
    for _ in range(3):
        assert (
            _post(client, "/api/users/login/", {"email": "sis@example.com", **wrong}).status_code
            == 400
        )

    for spelling in (f"{LONG_S}is@example.com", f"s{DOTLESS_I}s@example.com"):
        assert _post(client, "/api/users/login/", {"email": spelling, **wrong}).status_code == 429


def test_a_lookalike_spelling_counts_against_the_accounts_reset_mail_limit(
    client: Client, tight: None, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.create_user(email="test@example.com", password=PASSWORD, is_active=True)
    answers = []
    for email in ("test@example.com", f"te{LONG_S}t@example.com", f"te{LONG_S}t@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(
                _post(client, "/api/users/forgot-password/", {"email": email}).status_code
            )
    run_queued_jobs()

    assert answers == [200, 200, 429]
    assert len(mail.outbox) == 2


def test_only_the_spelling_links_carry_names_a_user() -> None:
    user = User.objects.create_user(email="test@example.com", password=PASSWORD)
    uid = uid_encode(user)

    assert uid_decode(uid) == user.pk
    for other in (f"{uid}=", f".{uid}", f"..{uid}", uid_encode(User(pk=f"0{user.pk}"))):
        assert uid_decode(other) is None


def test_staff_cannot_create_an_account_under_a_lookalike_spelling() -> None:
    # (Django's clean() turns a long s into "s" by NFKC; a dotless i it keeps.)
    user = User(email=f"l{DOTLESS_I}sa@example.com")

    with pytest.raises(ValidationError) as refused:
        user.full_clean(exclude=["password"])

    assert "reads as another one when case is ignored" in str(refused.value.message_dict["email"])
