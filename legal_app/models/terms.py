"""Versioned terms of service and privacy policy, and who accepted which terms version."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from legal_app.terms.markdown import markdown_render


class LegalDocumentKind(models.TextChoices):
    TERMS = "terms", "Terms of service"
    PRIVACY = "privacy", "Privacy policy"


class PublishedDocumentChange(Exception):
    """Raised on an attempt to edit or delete a version that is already published."""


class LegalDocument(models.Model):
    """One version of the terms or the privacy policy; frozen once published."""

    kind = models.CharField(max_length=16, choices=LegalDocumentKind.choices)
    version = models.CharField(
        max_length=32, help_text="How viewers and clients name this version, e.g. 2026-12 or 3."
    )
    body = models.TextField(help_text="Markdown.")
    # Rendered and sanitised when saved, so the published text is exactly what was
    # reviewed, whatever later versions of the renderer do.
    html = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)

    class Meta:
        ordering = ("kind", "-published_at", "-created_at")
        constraints = [
            models.UniqueConstraint(fields=("kind", "version"), name="legal_document_kind_version"),
            models.CheckConstraint(
                condition=Q(kind__in=LegalDocumentKind.values), name="legal_document_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(version=""), name="legal_document_version_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Asked of the database, not of this instance: a stale copy must not overwrite
        # a version someone published in the meantime.
        if self._stored_is_published():
            raise PublishedDocumentChange(
                f"{self} is published and cannot be edited; make a new version instead."
            )
        self.html = markdown_render(self.body)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._stored_is_published():
            raise PublishedDocumentChange(f"{self} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def _stored_is_published(self) -> bool:
        if self.pk is None:
            return False
        return type(self).objects.filter(pk=self.pk, published_at__isnull=False).exists()


class TermsAcceptance(models.Model):
    """A user's acceptance of one terms version: when, and from which address."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="terms_acceptances"
    )
    document = models.ForeignKey(
        LegalDocument, on_delete=models.PROTECT, related_name="acceptances"
    )
    accepted_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ("-accepted_at",)
        constraints = [
            models.UniqueConstraint(fields=("user", "document"), name="terms_acceptance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.document_id} at {self.accepted_at:%Y-%m-%d %H:%M}"
