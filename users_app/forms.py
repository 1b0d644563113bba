"""Forms of the account pages; validation mirrors the API's serializers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.contrib.auth.password_validation import validate_password as _validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.text import format_lazy

from users_app.models import User
from users_app.services import EmailRefused, email_for_new_account, normalize_email


class SignUpForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    confirm_password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    # Signing up records acceptance of the current terms (the legal app's receiver of
    # user_registered), so the box must be ticked.
    accept_terms = forms.BooleanField(
        label="I accept the terms of service",
        help_text=format_lazy(
            'Read the <a href="{}">terms of service</a> and the <a href="{}">privacy policy</a>.',
            reverse_lazy("legal:terms"),
            reverse_lazy("legal:privacy"),
        ),
        error_messages={"required": "Accept the terms of service to create an account."},
    )

    def clean_email(self) -> str:
        try:
            return email_for_new_account(self.cleaned_data["email"])
        except EmailRefused as exc:
            raise ValidationError(exc.message) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password, confirm = data.get("password"), data.get("confirm_password")
        if password and confirm and password != confirm:
            self.add_error("confirm_password", "The two passwords do not match.")
        if password:
            try:
                _validate_password(password, user=User(email=data.get("email") or ""))
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class LoginForm(forms.Form):
    email = forms.CharField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class EmailForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class CurrentPasswordForm(forms.Form):
    """A form that asks for the signed-in user's password before a sensitive change."""

    current_password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    # Its own ids: two of these forms share the account page, and a label must name its own
    # form's password field (the same name is fine: each form posts alone).
    id_prefix = "id"

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)

    def clean_current_password(self) -> str:
        password: str = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise ValidationError("Your current password is not correct.")
        return password


class EmailChangeForm(CurrentPasswordForm):
    id_prefix = "email"
    new_email = forms.EmailField(max_length=254, label="New email address")

    def clean_new_email(self) -> str:
        email: str = self.cleaned_data["new_email"]
        if normalize_email(email) == self.user.email:
            raise ValidationError("This is already your email address.")
        try:
            return email_for_new_account(email)
        except EmailRefused as exc:
            raise ValidationError(exc.message) from exc


class DeleteAccountForm(CurrentPasswordForm):
    id_prefix = "delete"
    confirm = forms.BooleanField(
        label="I understand that my account, favourites and watch history are deleted for good."
    )
