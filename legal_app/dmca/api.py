"""`POST /api/legal/dmca/` and `POST /api/legal/counter-notice/`: public, throttled per IP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import APIView

from content_app.models import Film
from legal_app.dmca.counter import CounterSubmission, counter_notice_submit
from legal_app.dmca.elements import (
    COUNTER_NOTICE_ELEMENTS,
    NOTICE_ELEMENTS,
    invalid,
    missing,
    phone_is_valid,
)
from legal_app.dmca.selectors import MaterialRefused, films_resolve, material_references
from legal_app.dmca.services import NoticeSubmission, notice_submit
from legal_app.models.dmca import counter_notice_reference, notice_reference
from users_app.throttling import AccountThrottle

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


def _messages(element: str, elements: dict[str, str]) -> dict[str, str | _StrPromise]:
    text = missing(element, elements)
    return {"required": text, "blank": text, "null": text, "invalid": invalid(element, elements)}


def _text(element: str, elements: dict[str, str], max_length: int) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, error_messages=_messages(element, elements))


class _Statement(serializers.BooleanField):
    """A statement the sender must make: only an explicit true counts."""

    def to_internal_value(self, data: Any) -> bool:
        if not super().to_internal_value(data):
            self.fail("required")
        return True


def _statement(element: str, elements: dict[str, str]) -> _Statement:
    return _Statement(error_messages=_messages(element, elements))


MAX_MATERIAL_LENGTH = 5000
# What DRF's CharField runs and this field is not one: no NUL (PostgreSQL cannot store it),
# no lone UTF-16 surrogate (the error echoing it could not be encoded).
_STORABLE = (ProhibitNullCharactersValidator(), ProhibitSurrogateCharactersValidator())


def _storable(text: str) -> bool:
    try:
        for validator in _STORABLE:
            validator(text)
    except (DjangoValidationError, serializers.ValidationError):
        return False
    return True


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
)
class _Material(serializers.Field):
    """Page URLs or ids of films: a list, or one string with one per line."""

    def to_internal_value(self, data: Any) -> list[str]:
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(item, str | int) for item in items):
            self.fail("invalid")
        texts = [str(item) for item in items]
        # The size first: splitting is linear, but a body of megabytes need not be split.
        if sum(len(text) for text in texts) > MAX_MATERIAL_LENGTH or not all(
            _storable(text) for text in texts
        ):
            self.fail("invalid")
        references = material_references(texts)
        if not references:
            self.fail("required")
        return references

    def to_representation(self, value: Any) -> Any:
        return value


class _Phone(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not phone_is_valid(value):
            self.fail("invalid")
        return value


class _Honeypot(serializers.Serializer):
    website = serializers.CharField(required=False, allow_blank=True, write_only=True)


class NoticeSerializer(_Honeypot):
    signature = _text("signature", NOTICE_ELEMENTS, 200)
    copyrighted_work = _text("copyrighted_work", NOTICE_ELEMENTS, 5000)
    infringing_material = _Material(
        error_messages=_messages("infringing_material", NOTICE_ELEMENTS)
    )
    address = _text("address", NOTICE_ELEMENTS, 1000)
    phone = _Phone(max_length=40, error_messages=_messages("phone", NOTICE_ELEMENTS))
    email = serializers.EmailField(
        max_length=254, error_messages=_messages("email", NOTICE_ELEMENTS)
    )
    good_faith = _statement("good_faith", NOTICE_ELEMENTS)
    accurate_under_penalty = _statement("accurate_under_penalty", NOTICE_ELEMENTS)

    films: list[Film]

    def validate_infringing_material(self, references: list[str]) -> list[str]:
        try:
            self.films = films_resolve(references)
        except MaterialRefused as error:
            raise serializers.ValidationError(error.message) from error
        return references

    def submission(self) -> NoticeSubmission:
        data = dict(self.validated_data)
        data.pop("website", None)
        data["infringing_material"] = "\n".join(data["infringing_material"])
        return NoticeSubmission(**data, films=self.films)


class CounterNoticeSerializer(_Honeypot):
    takedown = _text("takedown", COUNTER_NOTICE_ELEMENTS, 32)
    signature = _text("signature", COUNTER_NOTICE_ELEMENTS, 200)
    material = _text("material", COUNTER_NOTICE_ELEMENTS, 5000)
    location_before_removal = _text("location_before_removal", COUNTER_NOTICE_ELEMENTS, 5000)
    mistake_statement = _statement("mistake_statement", COUNTER_NOTICE_ELEMENTS)
    name = _text("name", COUNTER_NOTICE_ELEMENTS, 200)
    address = _text("address", COUNTER_NOTICE_ELEMENTS, 1000)
    phone = _Phone(max_length=40, error_messages=_messages("phone", COUNTER_NOTICE_ELEMENTS))
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    jurisdiction_consent = _statement("jurisdiction_consent", COUNTER_NOTICE_ELEMENTS)
    service_acceptance = _statement("service_acceptance", COUNTER_NOTICE_ELEMENTS)

    def submission(self) -> CounterSubmission:
        data = dict(self.validated_data)
        data.pop("website", None)
        data.setdefault("email", "")
        return CounterSubmission(takedown_reference=data.pop("takedown"), **data)


_Reference = inline_serializer("LegalReference", {"reference": serializers.CharField()})


class _PublicForm(APIView):
    # A public form with no account: no authentication, so no session CSRF either.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_scope = ""

    def _validated(self, request: Request, serializer_class: type[_Honeypot]) -> _Honeypot:
        AccountThrottle(self.throttle_scope, request, None).check_and_hit()
        data = request.data if isinstance(request.data, dict) else {"": request.data}
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer


class NoticeView(_PublicForm):
    throttle_scope = "dmca_notice"

    @extend_schema(request=NoticeSerializer, responses={201: _Reference}, tags=["legal"])
    def post(self, request: Request) -> Response:
        serializer = self._validated(request, NoticeSerializer)
        assert isinstance(serializer, NoticeSerializer)
        if serializer.validated_data.get("website"):
            # A bot: answered like anyone else, with a reference that names nothing.
            return Response({"reference": notice_reference()}, status=status.HTTP_201_CREATED)
        notice = notice_submit(submission=serializer.submission())
        return Response({"reference": notice.reference}, status=status.HTTP_201_CREATED)


class CounterNoticeView(_PublicForm):
    throttle_scope = "counter_notice"

    @extend_schema(request=CounterNoticeSerializer, responses={201: _Reference}, tags=["legal"])
    def post(self, request: Request) -> Response:
        serializer = self._validated(request, CounterNoticeSerializer)
        assert isinstance(serializer, CounterNoticeSerializer)
        if serializer.validated_data.get("website"):
            return Response(
                {"reference": counter_notice_reference()}, status=status.HTTP_201_CREATED
            )
        counter = counter_notice_submit(submission=serializer.submission())
        return Response({"reference": counter.reference}, status=status.HTTP_201_CREATED)
