"""Admin of terms and privacy versions: drafts are edited, published versions only read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from affea.admin_selection import CheckedSelectionMixin
from legal_app.models import LegalDocument, TermsAcceptance
from legal_app.terms import services
from users_app.models import User


class LegalDocumentForm(forms.ModelForm):
    class Meta:
        model = LegalDocument
        fields = ("kind", "version", "body")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stored = LegalDocument.objects.filter(pk=self.instance.pk, published_at__isnull=False)
        if self.instance.pk is not None and stored.exists():
            # Published by someone else while this form was open.
            raise ValidationError("This version is published and cannot be edited; add a new one.")
        return data


@admin.register(LegalDocument)
class LegalDocumentAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    form = LegalDocumentForm
    list_display = ("__str__", "kind", "version", "published_at", "created_at")
    list_filter = ("kind",)
    fields = ("kind", "version", "body", "published_at", "preview")
    readonly_fields = ("published_at", "preview")
    actions = ("publish",)

    @admin.display(description="Rendered (as viewers see it)")
    def preview(self, document: LegalDocument) -> SafeString:
        # `html` is sanitised when the version is saved.
        return format_html('<div class="legal-document">{}</div>', SafeString(document.html))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A published version is shown read-only: staff make a new version instead.
        if isinstance(obj, LegalDocument) and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if isinstance(obj, LegalDocument) and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LegalDocument]) -> None:
        for document in queryset:  # the model refuses published versions one by one
            if document.is_published:
                self.message_user(request, f"{document} is published: kept.", messages.WARNING)
            else:
                document.delete()

    @admin.action(description="Publish the selected versions", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[LegalDocument]) -> None:
        by = request.user if isinstance(request.user, User) else None
        for document in queryset.order_by("created_at"):
            if services.document_publish(document=document, by=by):
                self.message_user(request, f"{document} is published.", messages.SUCCESS)
            else:
                self.message_user(request, f"{document} was already published.", messages.INFO)


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    list_display = ("user", "document", "accepted_at", "ip")
    list_filter = ("document",)
    search_fields = ("user__email",)
    list_select_related = ("user", "document")
    readonly_fields = ("user", "document", "accepted_at", "ip")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
