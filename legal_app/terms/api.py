"""Terms and privacy API (API.md, Legal): the current versions, and accepting the terms."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from legal_app.models import LegalDocument, LegalDocumentKind
from legal_app.terms import services
from legal_app.terms.selectors import document_current
from users_app.models import User


class DocumentSerializer(serializers.ModelSerializer[LegalDocument]):
    class Meta:
        model = LegalDocument
        fields = ("version", "published_at", "html")


class AcceptSerializer(serializers.Serializer[Any]):
    version = serializers.CharField(max_length=32)


class _DocumentView(APIView):
    kind: LegalDocumentKind
    permission_classes = ()

    @extend_schema(responses={200: DocumentSerializer, 404: OpenApiResponse(description="None")})
    def get(self, request: Request) -> Response:
        document = document_current(kind=self.kind)
        if document is None:
            raise NotFound(f"No {self.kind.label.lower()} has been published yet.")
        return Response(DocumentSerializer(document).data)


class TermsView(_DocumentView):
    kind = LegalDocumentKind.TERMS


class PrivacyView(_DocumentView):
    kind = LegalDocumentKind.PRIVACY


class TermsAcceptView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(request=AcceptSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = AcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated
        try:
            services.terms_accept(
                user=user,
                version=serializer.validated_data["version"],
                ip=services.request_ip(request._request),
            )
        except services.NotCurrentVersion as exc:
            raise ValidationError({"version": [exc.message]}) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
