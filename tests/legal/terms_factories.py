"""Factories of the terms tests: published versions and signed-in viewers."""

from __future__ import annotations

from django.utils import timezone

from legal_app.models import LegalDocument, LegalDocumentKind
from legal_app.terms.services import document_publish
from users_app.models import User

PASSWORD = "kettle-orchard-91"


def published(
    version: str = "1", body: str = "# Terms\n\nBe kind.", kind: str = LegalDocumentKind.TERMS
) -> LegalDocument:
    document = LegalDocument.objects.create(kind=kind, version=version, body=body)
    document_publish(document=document, by=None)
    return document


def viewer(email: str = "viewer@example.com") -> User:
    return User.objects.create_user(
        email=email, password=PASSWORD, is_active=True, email_confirmed_at=timezone.now()
    )
