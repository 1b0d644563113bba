"""Admin of the legal app: the record is read-only, whoever looks at it."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from affea.admin_selection import CheckedSelectionMixin
from legal_app.dmca import admin as dmca_admin  # noqa: F401  (registers its models)
from legal_app.models import LegalEvent
from legal_app.terms import admin as terms_admin  # noqa: F401  (registers its models)


@admin.register(LegalEvent)
class LegalEventAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    list_display = ("at", "kind", "summary", "actor_label", "film_id", "notice_id")
    list_filter = ("kind",)
    search_fields = ("summary", "actor_label")
    date_hierarchy = "at"
    readonly_fields = (
        "at",
        "kind",
        "summary",
        "actor",
        "actor_label",
        "film_id",
        "notice_id",
        "details",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
