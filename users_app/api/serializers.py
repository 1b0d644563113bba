"""Parse and validate the account endpoints' input (shapes in API.md)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from users_app.models import User
from users_app.services import EmailRefused, email_for_new_account


def _password_errors(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


class RegisterSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    confirm_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)

    def validate_email(self, value: str) -> str:
        try:
            return email_for_new_account(value)
        except EmailRefused as exc:
            raise serializers.ValidationError(exc.message) from exc

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if attrs["password"] != attrs["confirm_password"]:
            errors["confirm_password"] = ["The two passwords do not match."]
        password_errors = _password_errors(attrs["password"], User(email=attrs["email"]))
        if password_errors:
            errors["password"] = password_errors
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class EmailQuerySerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)


class LinkSerializer(serializers.Serializer[Any]):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=100)


class LoginSerializer(serializers.Serializer[Any]):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    remember = serializers.BooleanField(required=False, default=False)


class ResetPasswordSerializer(LinkSerializer):
    new_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)


class ProfileSerializer(serializers.Serializer[Any]):
    """The account payload (documents the shape for the OpenAPI schema)."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    username = serializers.CharField()
    favorite_videos = serializers.ListField(child=serializers.IntegerField())


class DetailSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
