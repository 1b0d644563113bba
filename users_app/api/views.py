"""The account endpoints of API.md: parse, throttle, call a service, answer."""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.contrib.auth import logout as session_logout
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import Token

from affea.parsers import JSONParser
from users_app import services
from users_app.api.serializers import (
    DetailSerializer,
    EmailQuerySerializer,
    LinkSerializer,
    LoginSerializer,
    ProfileSerializer,
    RegisterSerializer,
    ResetPasswordSerializer,
)
from users_app.authentication import enforce_csrf, refuse_cross_site
from users_app.cookies import auth_cookies_delete, auth_cookies_set
from users_app.jwt_tokens import (
    access_token_revoke,
    refresh_token_revoke,
    token_pair_issue,
    token_pair_rotate,
)
from users_app.profile import user_profile
from users_app.selectors import user_email_exists
from users_app.throttling import AccountThrottle

RESET_REQUESTED_MESSAGE = (
    "If an account exists for this address, we have sent it a link to reset the password."
)


def _field(request: Request, name: str) -> str:
    value = request.data.get(name) if hasattr(request.data, "get") else None
    return value if isinstance(value, str) else ""


def _link_error(exc: services.InvalidLink) -> ValidationError:
    return ValidationError({"token": [exc.message]})


class PublicAPIView(APIView):
    """An endpoint for anonymous visitors: no cookie authentication, so no CSRF either."""

    authentication_classes = ()
    permission_classes = ()


class SignInAPIView(PublicAPIView):
    """An endpoint that sets the sign-in cookies: JSON only and same-site (login CSRF)."""

    parser_classes = (JSONParser,)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        refuse_cross_site(request._request)


class RegisterView(SignInAPIView):
    @extend_schema(
        request=RegisterSerializer,
        responses={201: inline_serializer("Registered", {"email": serializers.EmailField()})},
    )
    def post(self, request: Request) -> Response:
        AccountThrottle("register", request, _field(request, "email")).check_and_hit()
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.user_register(
                email=serializer.validated_data["email"],
                password=serializer.validated_data["password"],
                request=request._request,
            )
        except services.EmailRefused as exc:
            raise ValidationError({"email": [exc.message]}) from exc
        return Response({"email": user.email}, status=status.HTTP_201_CREATED)


class EmailExistsView(PublicAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("email", str, required=True)],
        responses={200: inline_serializer("EmailExists", {"exists": serializers.BooleanField()})},
    )
    def get(self, request: Request) -> Response:
        email = request.query_params.get("email", "")
        AccountThrottle("email_exists", request, email).check_and_hit()
        serializer = EmailQuerySerializer(data={"email": email})
        serializer.is_valid(raise_exception=True)
        return Response({"exists": user_email_exists(email=serializer.validated_data["email"])})


class ConfirmView(PublicAPIView):
    @extend_schema(request=LinkSerializer, responses={200: DetailSerializer})
    def post(self, request: Request) -> Response:
        AccountThrottle("confirm", request, _field(request, "uid")).check_and_hit()
        serializer = LinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.user_confirm(**serializer.validated_data)
        except services.InvalidLink as exc:
            raise _link_error(exc) from exc
        return Response({"detail": "Your account is confirmed; you can log in now."})


class LoginView(SignInAPIView):
    @extend_schema(request=LoginSerializer, responses={200: ProfileSerializer})
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user = services.login_authenticate(
                request=request._request, email=data["email"], password=data["password"]
            )
        except services.InvalidCredentials as exc:
            raise ValidationError({"non_field_errors": [exc.message]}) from exc
        update_last_login(type(user), user)
        response = Response(user_profile(user=user))
        auth_cookies_set(response, token_pair_issue(user=user, remember=data["remember"]))
        return response


class RefreshView(PublicAPIView):
    @extend_schema(request=None, responses={200: DetailSerializer})
    def post(self, request: Request) -> Response:
        raw = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
        if raw:
            # The refresh cookie authenticates this request, so it gets the CSRF check.
            enforce_csrf(request._request)
        _, pair = token_pair_rotate(raw_refresh=raw)
        response = Response({"detail": "Token refreshed."})
        auth_cookies_set(response, pair)
        return response


class LogoutView(APIView):
    """End the sign-in of whichever credential is still valid; the cookies go either way.

    An SPA does not refresh before logging out, so an expired access cookie must not keep
    the refresh cookie alive: the refresh cookie alone is enough to log out.
    """

    permission_classes = ()

    def perform_authentication(self, request: Request) -> None:
        # A bad Bearer header (expired, forged) would answer 401 before `post` runs and keep
        # the refresh cookie's sign-in alive: logging out goes on without it.
        # DRF sets the request anonymous before raising.
        with contextlib.suppress(exceptions.AuthenticationFailed):
            request.user  # noqa: B018  (authenticates)

    @extend_schema(request=None, responses={200: DetailSerializer, 401: DetailSerializer})
    def post(self, request: Request) -> Response:
        raw = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
        if raw:
            enforce_csrf(request._request)
        signed_in = bool(request.user and request.user.is_authenticated)
        if isinstance(request.auth, Token):
            access_token_revoke(token=request.auth)
        refreshed = refresh_token_revoke(raw_refresh=raw)
        if request._request.session.get("_auth_user_id"):
            session_logout(request._request)
        if signed_in or refreshed:
            response = Response({"detail": "You are logged out."})
        else:
            response = Response(
                {"detail": "Authentication credentials were not provided."},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )
        auth_cookies_delete(response)
        return response


class MeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request: Request) -> Response:
        return Response(user_profile(user=request.user))  # type: ignore[arg-type]


class ForgotPasswordView(PublicAPIView):
    @extend_schema(request=EmailQuerySerializer, responses={200: DetailSerializer})
    def post(self, request: Request) -> Response:
        serializer = EmailQuerySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        AccountThrottle("forgot_password", request, email).check_and_hit()
        services.password_reset_request(email=email, request=request._request)
        return Response({"detail": RESET_REQUESTED_MESSAGE})


class ResetPasswordView(PublicAPIView):
    @extend_schema(request=ResetPasswordSerializer, responses={200: DetailSerializer})
    def post(self, request: Request) -> Response:
        AccountThrottle("reset_password", request, _field(request, "uid")).check_and_hit()
        serializer = ResetPasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        try:
            services.password_reset_confirm(
                uid=data["uid"], token=data["token"], new_password=data["new_password"]
            )
        except services.InvalidLink as exc:
            raise _link_error(exc) from exc
        except DjangoValidationError as exc:
            raise ValidationError({"new_password": list(exc.messages)}) from exc
        return Response({"detail": "Your password has been reset; log in with the new one."})
