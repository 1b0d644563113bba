"""OpenAPI descriptions of the account authentication classes (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework_simplejwt.settings import api_settings


class CookieJWTScheme(OpenApiAuthenticationExtension):
    target_class = "users_app.authentication.CookieJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION",
            token_prefix=api_settings.AUTH_HEADER_TYPES[0],
            bearer_format="JWT",
        )
        definition["description"] = (
            f"SimpleJWT access token, as `Authorization: Bearer` or in the HttpOnly "
            f"`{settings.JWT_ACCESS_COOKIE}` cookie set by `POST /api/users/login/`."
        )
        return definition


class OriginSessionScheme(SessionScheme):
    target_class = "users_app.authentication.OriginSessionAuthentication"
