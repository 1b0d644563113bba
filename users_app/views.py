"""Account pages: sign up, confirm, log in/out, forgot/reset password, account settings."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import logout as session_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import Throttled

from users_app import services
from users_app.api.views import RESET_REQUESTED_MESSAGE
from users_app.clients import spa_route
from users_app.cookies import auth_cookies_delete
from users_app.forms import DeleteAccountForm, EmailChangeForm, EmailForm, LoginForm, SignUpForm
from users_app.jwt_tokens import refresh_token_revoke
from users_app.models import User
from users_app.throttling import AccountThrottle

LINK_PLACEHOLDER = "go"  # stands in the URL for the token kept in the session

View = Callable[..., HttpResponse]


def token_in_session(view: View) -> View:
    """Move a mailed link's token from the URL into the session and drop it from the URL.

    As Django's password-reset view does: after one redirect the token is no longer in
    the address bar, in Referer headers, or in the lines Django logs for 4xx answers.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, token: str, **kwargs: Any) -> HttpResponse:
        key = f"users_app.link.{view.__name__}"
        if token != LINK_PLACEHOLDER:
            request.session[key] = token
            head, _, tail = request.path.rpartition(f"/{token}/")
            query = f"?{request.GET.urlencode()}" if request.GET else ""
            return HttpResponseRedirect(f"{head}/{LINK_PLACEHOLDER}/{tail}{query}")
        return view(request, *args, token=request.session.get(key, ""), **kwargs)

    return wrapper


def _wait(exc: Throttled) -> int:
    return math.ceil(getattr(exc, "wait", None) or 1)


def _throttled(
    request: HttpRequest, template: str, context: dict[str, Any], exc: Throttled
) -> HttpResponse:
    wait = _wait(exc)
    context["form"].add_error(None, f"Too many attempts. Try again in {wait} seconds.")
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(wait)
    return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        try:
            AccountThrottle("register", request, request.POST.get("email", "")).check_and_hit()
        except Throttled as exc:
            return _throttled(request, "users_app/signup.html", {"form": form}, exc)
        if form.is_valid():
            try:
                user = services.user_register(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    request=request,
                )
            except services.EmailRefused as exc:
                form.add_error("email", exc.message)
            else:
                return render(request, "users_app/signup_done.html", {"email": user.email})
    return render(request, "users_app/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@token_in_session
def confirm(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not use them up.
    if request.method == "POST":
        try:
            AccountThrottle("confirm", request, uid).check_and_hit()
            services.user_confirm(uid=uid, token=token)
        except Throttled as exc:
            return HttpResponse(status=429, headers={"Retry-After": str(_wait(exc))})
        except services.InvalidLink as exc:
            return render(
                request, "users_app/link_invalid.html", {"message": exc.message}, status=400
            )
        messages.success(request, "Your account is confirmed; you can log in now.")
        # Registered through a configured SPA: sign in there, not on Affea's page.
        spa_login = spa_route(request.GET.get("client", ""), "login")
        return HttpResponseRedirect(spa_login) if spa_login else redirect("users:login")
    return render(request, "users_app/confirm.html")


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return str(settings.LOGIN_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = _next_url(request)
    context = {"form": form, "next": next_url}
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_authenticate(
                request=request,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
        except Throttled as exc:
            return _throttled(request, "users_app/login.html", context, exc)
        except services.InvalidCredentials as exc:
            form.add_error(None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(next_url)
    return render(request, "users_app/login.html", context)


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    refresh_token_revoke(raw_refresh=request.COOKIES.get(settings.JWT_REFRESH_COOKIE))
    session_logout(request)
    response = redirect(settings.LOGOUT_REDIRECT_URL)
    auth_cookies_delete(response)
    return response


@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            AccountThrottle("forgot_password", request, email).check_and_hit()
        except Throttled as exc:
            return _throttled(request, "users_app/forgot_password.html", {"form": form}, exc)
        services.password_reset_request(email=email, request=request)
        return render(
            request, "users_app/reset_requested.html", {"message": RESET_REQUESTED_MESSAGE}
        )
    return render(request, "users_app/forgot_password.html", {"form": form})


@require_http_methods(["GET", "POST"])
@token_in_session
def reset_password(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    try:
        # Every check of a link's token counts, so tokens cannot be tried at speed.
        AccountThrottle("reset_password", request, uid).check_and_hit()
    except Throttled as exc:
        return HttpResponse(status=429, headers={"Retry-After": str(_wait(exc))})
    try:
        user = services.reset_link_user(uid=uid, token=token)
    except services.InvalidLink as exc:
        return render(request, "users_app/link_invalid.html", {"message": exc.message}, status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_confirm(
                uid=uid, token=token, new_password=form.cleaned_data["new_password1"]
            )
        except services.InvalidLink as exc:
            return render(
                request, "users_app/link_invalid.html", {"message": exc.message}, status=400
            )
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            messages.success(request, "Your password has been reset; log in with the new one.")
            return redirect("users:login")
    return render(request, "users_app/reset_password.html", {"form": form})


def _account_forms(user: User) -> dict[str, Any]:
    return {
        "email_form": EmailChangeForm(user),
        "password_form": PasswordChangeForm(user),
        "delete_form": DeleteAccountForm(user),
    }


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "users_app/account.html", _account_forms(request.user))  # type: ignore[arg-type]


@login_required
@require_POST
def email_change(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = EmailChangeForm(user, request.POST)
    if form.is_valid():
        try:
            new_email = services.email_change_request(
                user=user, new_email=form.cleaned_data["new_email"]
            )
        except services.DomainError as exc:
            form.add_error("new_email", exc.message)
        else:
            messages.success(
                request, f"We sent a link to {new_email}; your address changes once you open it."
            )
            return redirect("users:account")
    context = {**_account_forms(user), "email_form": form}
    return render(request, "users_app/account.html", context, status=400)


@require_http_methods(["GET", "POST"])
@token_in_session
def email_change_confirm(request: HttpRequest, uid: str, email: str, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            user = services.email_change_confirm(uid=uid, email=email, token=token)
        except services.DomainError as exc:
            return render(
                request, "users_app/link_invalid.html", {"message": exc.message}, status=400
            )
        messages.success(request, f"Your email address is now {user.email}.")
        return redirect("users:account" if request.user.is_authenticated else "users:login")
    return render(request, "users_app/confirm.html", {"email_change": True})


@login_required
@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PasswordChangeForm(user, request.POST)
    if form.is_valid():
        services.password_change(user=user, new_password=form.cleaned_data["new_password1"])
        # Keep this browser signed in; every other session and JWT ends.
        update_session_auth_hash(request, user)
        messages.success(request, "Your password has been changed.")
        return redirect("users:account")
    context = {**_account_forms(user), "password_form": form}
    return render(request, "users_app/account.html", context, status=400)


@login_required
@require_POST
def account_delete(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = DeleteAccountForm(user, request.POST)
    if form.is_valid():
        services.user_delete(user=user)
        session_logout(request)
        messages.success(request, "Your account and its data have been deleted.")
        response = redirect("/")
        auth_cookies_delete(response)
        return response
    context = {**_account_forms(user), "delete_form": form}
    return render(request, "users_app/account.html", context, status=400)
