"""Admin for accounts: Django's user admin adapted to email login, its login throttled."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from rest_framework.exceptions import Throttled

from affea.admin_selection import CheckedSelectionMixin
from users_app.models import User
from users_app.services import InvalidCredentials, login_authenticate


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in through the site's and the API's own login check
    (`services.login_authenticate`, under the login throttle), so staff passwords cannot be
    guessed at the admin's door instead."""

    def clean(self) -> dict[str, Any]:
        assert self.request is not None  # the admin's login view always passes it
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data  # the fields' own errors say what is missing
        try:
            self.user_cache = login_authenticate(
                request=self.request, email=username, password=password
            )
        except Throttled as exc:
            wait = math.ceil(getattr(exc, "wait", None) or 1)
            raise forms.ValidationError(
                f"Too many attempts. Try again in {wait} seconds.", code="throttled"
            ) from exc
        except InvalidCredentials as exc:
            raise self.get_invalid_login_error() from exc
        self.confirm_login_allowed(self.user_cache)  # staff only
        return self.cleaned_data


admin.site.login_form = ThrottledAdminLoginForm


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(CheckedSelectionMixin, DjangoUserAdmin):
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm
    ordering = ("email",)
    list_display = ("email", "is_active", "email_confirmed_at", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined", "email_confirmed_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
