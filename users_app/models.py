"""Affea's user: one account for the site, the API and the admin, signed in by email."""

from __future__ import annotations

import string
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# Only ASCII letters change case: str.lower() makes "İ" two characters (i and a combining
# dot), another address than the one typed, longer than the column allows.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


AMBIGUOUS_EMAIL = (
    "This address has a letter that reads as another one when case is ignored (such as "
    "\u017f for s or \u0131 for i). Type it with the letters your mail provider shows."
)


def email_letters_unambiguous(email: str) -> bool:
    """Whether no letter of `email` turns into another one when case is ignored.

    Accounts are found in any case (`email__iexact`, UPPER() in PostgreSQL), where U+017F
    (long s) reads as "s", U+0131 (dotless i) as "i" and the Kelvin sign as "k". An account
    under "te<long s>t@…" would then be found for test@… (its sign-up refused, its reset mail
    sent to the squatter), so addresses with such letters are refused.
    """
    for char in email:
        upper, lower = char.upper(), char.lower()
        if len(upper) == 1 and upper.lower() != lower:
            return False
        if len(lower) == 1 and lower.upper() != upper:
            return False
    return True


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """The one form of an address Affea stores and looks up (the admin's forms too,
        through AbstractUser.clean)."""
        return (email or "").strip().translate(_ASCII_LOWER)

    def get_by_natural_key(self, username: str | None) -> User:
        # Sign-in finds the account in any case, as the unique index compares them.
        return self.get(email__iexact=username)

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person with an Affea account; the email address is the login."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    # Set once when the owner proves the address; confirmation links die with it, and an
    # account a staff member deactivated later cannot be re-activated by an old link.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            # Emails are stored lower-cased; this also blocks case-variant duplicates.
            models.UniqueConstraint(Lower("email"), name="users_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()  # normalises the address
        # The admin's forms too: staff cannot create an account others' lookups would find.
        if not email_letters_unambiguous(self.email):
            raise ValidationError({"email": AMBIGUOUS_EMAIL})

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An account created active (by staff in the admin, createsuperuser) has its address
        # vouched for: only a sign-up waiting for its link is unconfirmed, so no link can
        # ever re-activate an account staff deactivated.
        if self._state.adding and self.is_active and self.email_confirmed_at is None:
            self.email_confirmed_at = timezone.now()
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email.split("@", 1)[0]


class LoginToken(models.Model):
    """The login (family) a refresh token belongs to, and when it was traded for a new one.

    Every refresh token descends from one sign-in; revoking the family ends that sign-in
    on every token it produced, which is what a detected refresh-token reuse must do.
    """

    outstanding = models.OneToOneField(
        "token_blacklist.OutstandingToken",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="login",
    )
    family = models.UUIDField(db_index=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token of login {self.family}"
