"""The content app's film admin, with what legal knows: taken down, under which notice.

content_app must not import legal_app, so legal re-registers a subclass of its FilmAdmin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from content_app.admin import FilmAdmin
from content_app.models import Film
from legal_app.models import Takedown

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec, _ListDisplayT, _ListFilterT
    from django.utils.datastructures import _ListOrTuple


class TakenDownFilter(admin.SimpleListFilter):
    title = "taken down"
    parameter_name = "taken_down"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Taken down"), ("no", "Not taken down")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Film]) -> QuerySet[Film]:
        if self.value() == "yes":
            return queryset.filter(taken_down_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(taken_down_at__isnull=True)
        return queryset


class LegalFilmAdmin(FilmAdmin):
    def get_list_display(self, request: HttpRequest) -> _ListDisplayT[Film]:
        return (*super().get_list_display(request), "takedown")

    def get_list_filter(self, request: HttpRequest) -> _ListOrTuple[_ListFilterT]:
        return (*super().get_list_filter(request), TakenDownFilter)

    def get_readonly_fields(
        self, request: HttpRequest, obj: Film | None = None
    ) -> _ListOrTuple[str]:
        return (*super().get_readonly_fields(request, obj), "takedown_history")

    def get_fieldsets(self, request: HttpRequest, obj: Film | None = None) -> _FieldsetSpec:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, ("DMCA takedowns", {"fields": ("takedown_history",)}))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Film]:
        active = Takedown.objects.filter(restored_at__isnull=True).select_related("notice")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("takedowns", queryset=active, to_attr="active_takedowns"))
        )

    @admin.display(description="DMCA", ordering="taken_down_at")
    def takedown(self, film: Film) -> str:
        active: list[Takedown] = getattr(film, "active_takedowns", [])
        if not active:
            return "—"
        links = (
            (reverse("admin:legal_app_notice_change", args=[t.notice_id]), t.notice.reference)
            for t in active
        )
        notices = format_html_join(", ", '<a href="{}">{}</a>', links)
        return format_html("<strong>taken down</strong> ({})", notices)

    @admin.display(description="History")
    def takedown_history(self, film: Film) -> str:
        """Every takedown of the film, restored or not, as a read-only table (no form data)."""
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
            "<td>{}</td></tr>",
            (
                (
                    reverse("admin:legal_app_takedown_change", args=[t.pk]), t.reference,
                    reverse("admin:legal_app_notice_change", args=[t.notice_id]),
                    t.notice.reference, f"{t.taken_down_at:%Y-%m-%d %H:%M}",
                    f"{t.restored_at:%Y-%m-%d %H:%M}" if t.restored_at else "taken down",
                    t.restoration_reason or "—",
                )
                for t in Takedown.objects.filter(film=film).select_related("notice")
            ),
        )  # fmt: skip
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>Takedown</th><th>Notice</th><th>When</th><th>Restored</th>"
            "<th>Why restored</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


admin.site.unregister(Film)
admin.site.register(Film, LegalFilmAdmin)
