"""Every write about accounts: registration, confirmation, login, passwords, email, deletion."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import django_rq
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rq import Retry

from affea.errors import DomainError
from users_app import tasks
from users_app.clients import spa_client_of
from users_app.jwt_tokens import refresh_tokens_revoke_all
from users_app.models import AMBIGUOUS_EMAIL, User, email_letters_unambiguous
from users_app.selectors import user_email_exists
from users_app.signals import user_registered
from users_app.throttling import AccountThrottle
from users_app.tokens import TokenPurpose, text_decode, token_check, uid_decode

logger = logging.getLogger(__name__)

INVALID_CREDENTIALS = "Invalid credentials or inactive user."


class InvalidCredentials(DomainError):
    default_message = INVALID_CREDENTIALS


class InvalidLink(DomainError):
    default_message = "This link is invalid, has expired or has already been used."


class EmailRefused(DomainError):
    """An address no new account (or email change) may take."""


class EmailTaken(EmailRefused):
    default_message = "An account with this email address already exists."


class EmailAmbiguous(EmailRefused):
    default_message = AMBIGUOUS_EMAIL


def _enqueue(func: Callable[..., Any], *args: Any) -> None:
    """Enqueue a mail job once the transaction commits (mail never goes out in a request)."""

    def send() -> None:
        django_rq.get_queue("default").enqueue(func, *args, retry=Retry(max=3, interval=[10, 60]))

    transaction.on_commit(send)


def normalize_email(email: str) -> str:
    return User.objects.normalize_email(email)


def email_for_new_account(email: str) -> str:
    """The stored form of an address a new account or an email change takes; raise
    EmailRefused when it is taken or ambiguous (models.email_letters_unambiguous)."""
    email = normalize_email(email)
    if not email_letters_unambiguous(email):
        raise EmailAmbiguous()
    if user_email_exists(email=email):
        raise EmailTaken()
    return email


@transaction.atomic
def user_register(*, email: str, password: str, request: HttpRequest | None = None) -> User:
    """Create an inactive account, tell listeners (terms acceptance), mail the confirmation."""
    email = email_for_new_account(email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, is_active=False)
    except IntegrityError as exc:  # a concurrent registration of the same address won
        raise EmailTaken() from exc
    user_registered.send(sender=User, user=user, request=request)
    _enqueue(tasks.send_confirmation_mail, user.pk, spa_client_of(request))
    return user


def _user_for_link(uid: str) -> User:
    user_id = uid_decode(uid)
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    if user is None:
        raise InvalidLink()
    return user


@transaction.atomic
def user_confirm(*, uid: str, token: str) -> User:
    """Activate the account of a valid, unused confirmation link."""
    user_id = uid_decode(uid)
    user = User.objects.select_for_update().filter(pk=user_id).first() if user_id else None
    if user is None or not token_check(user=user, purpose=TokenPurpose.CONFIRM, token=token):
        raise InvalidLink()
    if user.email_confirmed_at is not None:  # confirmed once: a deactivation stands
        raise InvalidLink()
    # Confirming changes email_confirmed_at, which the token signs: it works once.
    user.email_confirmed_at = timezone.now()
    user.is_active = True
    user.save(update_fields=["email_confirmed_at", "is_active"])
    return user


def login_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """Check credentials under the login throttle; one error for every kind of failure."""
    email = normalize_email(email)
    throttle = AccountThrottle("login", request, email)
    # Counted before the password is checked, so parallel guesses cannot all get through.
    throttle.check_and_hit()
    user = authenticate(request, email=email, password=password)
    if not isinstance(user, User):
        raise InvalidCredentials()
    throttle.give_back()  # a right password is no failure
    throttle.reset_account()
    return user


def password_reset_request(*, email: str, request: HttpRequest | None = None) -> None:
    """Enqueue the reset mail job; whether the account exists is decided in the job."""
    _enqueue(tasks.send_password_reset_mail, normalize_email(email), spa_client_of(request))


def reset_link_user(*, uid: str, token: str) -> User:
    """Return the account of a valid reset link (the page checks before showing its form)."""
    user = _user_for_link(uid)
    # A sign-up never confirmed may reset too (the link proves the address); a deactivated
    # account may not.
    usable = user.is_active or user.email_confirmed_at is None
    if not usable or not token_check(user=user, purpose=TokenPurpose.RESET, token=token):
        raise InvalidLink()
    return user


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link and sign the account out everywhere."""
    user = reset_link_user(uid=uid, token=token)
    user = User.objects.select_for_update().get(pk=user.pk)
    # Re-checked under the row lock so two requests cannot both use the link.
    if not token_check(user=user, purpose=TokenPurpose.RESET, token=token):
        raise InvalidLink()
    validate_password(new_password, user=user)
    _password_set(user=user, password=new_password)
    if user.email_confirmed_at is None:
        # The owner proved the address and chose the password: whoever signed up with it
        # before (and chose the old one) has no way in.
        user.email_confirmed_at, user.is_active = timezone.now(), True
        user.save(update_fields=["email_confirmed_at", "is_active"])
    return user


def _password_set(*, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    refresh_tokens_revoke_all(user=user)


@transaction.atomic
def password_change(*, user: User, new_password: str) -> None:
    """Change the password (already validated by the form) and end every JWT session."""
    _password_set(user=user, password=new_password)


def email_change_request(*, user: User, new_email: str) -> str:
    """Mail a confirmation link to the new address; the email changes only when it is used."""
    if normalize_email(new_email) == user.email:
        raise DomainError("This is already your email address.")
    new_email = email_for_new_account(new_email)
    _enqueue(tasks.send_email_change_mail, user.pk, new_email)
    return new_email


@transaction.atomic
def email_change_confirm(*, uid: str, email: str, token: str) -> User:
    """Switch the account to the address proven by a valid email-change link."""
    new_email = text_decode(email)
    user_id = uid_decode(uid)
    user = User.objects.select_for_update().filter(pk=user_id).first() if user_id else None
    if (
        user is None
        or not new_email
        or not token_check(
            user=user, purpose=TokenPurpose.EMAIL_CHANGE, token=token, extra=new_email
        )
    ):
        raise InvalidLink()
    if user_email_exists(email=new_email):
        raise EmailTaken()
    user.email = new_email
    user.email_confirmed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_confirmed_at"])
    except IntegrityError as exc:
        raise EmailTaken() from exc
    return user


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete the account and everything that belongs to it (favourites, progress, tokens)."""
    refresh_tokens_revoke_all(user=user)
    user.delete()
