"""Confirmation, reset and email-change tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from users_app import services
from users_app.models import User
from users_app.tokens import (
    TokenPurpose,
    text_encode,
    token_check,
    token_make,
    uid_decode,
    uid_encode,
)

pytestmark = pytest.mark.django_db


def test_a_token_is_valid_until_the_configured_days_have_passed(user: User) -> None:
    issued = timezone.now()
    token = token_make(user=user, purpose=TokenPurpose.RESET, at=issued)
    later = issued + timedelta(days=3)
    assert token_check(user=user, purpose=TokenPurpose.RESET, token=token, at=later)
    too_late = later + timedelta(seconds=1)
    assert not token_check(user=user, purpose=TokenPurpose.RESET, token=token, at=too_late)


def test_the_expiry_follows_the_setting(user: User, settings: object) -> None:
    settings.ACCOUNT_CONFIRMATION_DAYS = 1  # type: ignore[attr-defined]
    token = token_make(user=user, purpose=TokenPurpose.RESET)
    later = timezone.now() + timedelta(days=1, seconds=1)
    assert not token_check(user=user, purpose=TokenPurpose.RESET, token=token, at=later)


def test_a_token_for_one_purpose_fails_for_another(user: User) -> None:
    token = token_make(user=user, purpose=TokenPurpose.RESET)
    assert not token_check(user=user, purpose=TokenPurpose.CONFIRM, token=token)
    assert not token_check(user=user, purpose=TokenPurpose.EMAIL_CHANGE, token=token)


def test_an_email_change_token_is_bound_to_the_new_address(user: User) -> None:
    token = token_make(user=user, purpose=TokenPurpose.EMAIL_CHANGE, extra="a@example.com")
    assert token_check(
        user=user, purpose=TokenPurpose.EMAIL_CHANGE, token=token, extra="a@example.com"
    )
    assert not token_check(
        user=user, purpose=TokenPurpose.EMAIL_CHANGE, token=token, extra="b@example.com"
    )


def test_a_reset_token_dies_when_the_password_changes(user: User) -> None:
    token = token_make(user=user, purpose=TokenPurpose.RESET)
    user.set_password("a-different-pass-42")
    assert not token_check(user=user, purpose=TokenPurpose.RESET, token=token)


@pytest.mark.parametrize("token", ["", "no-dash-here-x", "zz!-abc", "a" * 200, "abc"])
def test_malformed_tokens_are_refused(user: User, token: str) -> None:
    assert not token_check(user=user, purpose=TokenPurpose.RESET, token=token)


def test_uids_round_trip_and_garbage_decodes_to_none(user: User) -> None:
    assert uid_decode(uid_encode(user)) == user.pk
    assert uid_decode("%%%") is None
    assert uid_decode("YWJj") is None  # "abc"


def test_an_email_change_link_works_once_even_after_changing_back(user: User) -> None:
    first = user.email
    to_b = token_make(user=user, purpose=TokenPurpose.EMAIL_CHANGE, extra="b@example.com")
    services.email_change_confirm(
        uid=uid_encode(user), email=text_encode("b@example.com"), token=to_b
    )
    user.refresh_from_db()
    back = token_make(user=user, purpose=TokenPurpose.EMAIL_CHANGE, extra=first)
    services.email_change_confirm(uid=uid_encode(user), email=text_encode(first), token=back)

    # Whoever holds mailbox B cannot take the account back with the first link.
    with pytest.raises(services.InvalidLink):
        services.email_change_confirm(
            uid=uid_encode(user), email=text_encode("b@example.com"), token=to_b
        )


def test_a_deactivated_account_cannot_confirm_an_email_change(user: User) -> None:
    token = token_make(user=user, purpose=TokenPurpose.EMAIL_CHANGE, extra="b@example.com")
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(services.InvalidLink):
        services.email_change_confirm(
            uid=uid_encode(user), email=text_encode("b@example.com"), token=token
        )
