"""Admin of DMCA notices, takedowns and counter-notices: read-only rows, decisions via services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from affea.admin_selection import CheckedSelectionMixin
from affea.errors import DomainError
from legal_app.dmca import counter, services
from legal_app.dmca import film_admin as _film_admin  # noqa: F401  (extends the content FilmAdmin)
from legal_app.dmca.reports import notice_history_json
from legal_app.dmca.selectors import repeat_infringers
from legal_app.models import CounterNotice, Notice, NoticeState, Takedown
from users_app.models import User

NOTICE_FIELDS = (
    "reference", "state", "signature", "copyrighted_work", "infringing_material", "films",
    "address", "phone", "email", "good_faith", "accurate_under_penalty", "received_at",
    "decided_at", "decided_by", "rejection_reason", "missing_items",
)  # fmt: skip


class DecisionForm(forms.ModelForm):
    """The notice is read-only; staff choose the next state, with the text it needs."""

    DECISIONS = [
        ("", "— keep as it is —"),
        (NoticeState.UNDER_REVIEW, "Start review"),
        (NoticeState.ACCEPTED, "Accept: take the films down now"),
        (NoticeState.REJECTED, "Reject (give the reason)"),
        (NoticeState.INCOMPLETE, "Incomplete (say what is missing: the sender is mailed it)"),
    ]
    decision = forms.ChoiceField(choices=DECISIONS, required=False)
    decision_text = forms.CharField(
        widget=forms.Textarea, required=False, label="Reason or missing items"
    )

    class Meta:
        model = Notice
        fields: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        decision = data.get("decision")
        if decision and decision not in services.ALLOWED.get(self.instance.state, set()):
            raise forms.ValidationError(
                f"A notice that is {self.instance.get_state_display().lower()} cannot become "
                f"{NoticeState(decision).label.lower()}."
            )
        needs_text = decision in (NoticeState.REJECTED, NoticeState.INCOMPLETE)
        if needs_text and not str(data.get("decision_text", "")).strip():
            self.add_error("decision_text", "Give the reason, or say what is missing.")
        return data


def notice_decide(*, notice: Notice, by: User, decision: str, text: str) -> None:
    """Call the service for a decision chosen in the admin."""
    if decision == NoticeState.UNDER_REVIEW:
        services.notice_review_start(notice=notice, by=by)
    elif decision == NoticeState.ACCEPTED:
        services.notice_accept(notice=notice, by=by)
    elif decision == NoticeState.REJECTED:
        services.notice_reject(notice=notice, by=by, reason=text)
    elif decision == NoticeState.INCOMPLETE:
        services.notice_mark_incomplete(notice=notice, by=by, missing_items=text)


class TakedownInline(admin.TabularInline):
    model = Takedown
    fields = ("reference", "film", "taken_down_at", "taken_down_by", "restored_at",
              "restoration_reason")  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Notice)
class NoticeAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    form = DecisionForm
    change_list_template = "legal_app/dmca_admin_notice_change_list.html"
    list_display = ("reference", "state", "signature", "email", "received_at", "decided_at")
    list_filter = ("state",)
    search_fields = ("reference", "signature", "email", "copyrighted_work")
    date_hierarchy = "received_at"
    readonly_fields = NOTICE_FIELDS
    fieldsets = ((None, {"fields": NOTICE_FIELDS}), ("Decision", {"fields": ("decision",
                 "decision_text")}))  # fmt: skip
    inlines = (TakedownInline,)
    actions = ("start_review", "accept", "export_history")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notice]:
        return super().get_queryset(request).prefetch_related("films")

    def save_model(self, request: HttpRequest, obj: Notice, form: Any, change: bool) -> None:
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        assert isinstance(request.user, User)
        try:
            notice_decide(
                notice=obj, by=request.user, decision=decision,
                text=form.cleaned_data.get("decision_text", ""),
            )  # fmt: skip
        except DomainError as error:
            messages.error(request, error.message)
        obj.refresh_from_db()

    def _each(self, request: HttpRequest, queryset: QuerySet[Notice], decision: str) -> None:
        assert isinstance(request.user, User)
        done = 0
        for notice in queryset:
            try:
                notice_decide(notice=notice, by=request.user, decision=decision, text="")
                done += 1
            except DomainError as error:
                messages.error(request, f"{notice.reference}: {error.message}")
        if done:
            messages.success(request, f"{done} notice(s): {NoticeState(decision).label.lower()}.")

    # Actions that change records need the change permission: Django offers an action to
    # anyone who can open the list, and view-only staff can.
    @admin.action(description="Start review of the selected notices", permissions=["change"])
    def start_review(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        self._each(request, queryset, NoticeState.UNDER_REVIEW)

    @admin.action(
        description="Accept the selected notices (takes their films down now)",
        permissions=["change"],
    )
    def accept(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        self._each(request, queryset, NoticeState.ACCEPTED)

    @admin.action(description="Export the history of the selected notices (JSON)")
    def export_history(self, request: HttpRequest, queryset: QuerySet[Notice]) -> HttpResponse:
        references = list(queryset.order_by("pk").values_list("reference", flat=True))
        name = references[0] if len(references) == 1 else f"{len(references)}-notices"
        response = HttpResponse(
            notice_history_json(queryset), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="dmca-history-{name}.json"'
        return response

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.repeat_infringers_view)
        extra = [path("repeat-infringers/", view, name="legal_app_notice_repeat_infringers")]
        return extra + super().get_urls()

    def repeat_infringers_view(self, request: HttpRequest) -> TemplateResponse:
        # admin_view lets any staff member in; the list names rights holders' contacts.
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Repeat infringers",
            "opts": self.model._meta,
            "infringers": repeat_infringers(),
            "threshold": settings.DMCA_REPEAT_INFRINGER_NOTICES,
        }
        return TemplateResponse(request, "legal_app/dmca_admin_repeat_infringers.html", context)


class TakedownForm(forms.ModelForm):
    restore_reason = forms.CharField(
        widget=forms.Textarea, required=False,
        label="Restore the film now, for this reason (kept in the record)",
    )  # fmt: skip

    class Meta:
        model = Takedown
        fields: tuple[str, ...] = ()


@admin.register(Takedown)
class TakedownAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    form = TakedownForm
    list_display = ("reference", "film", "notice", "taken_down_at", "restored_at")
    list_filter = (("restored_at", admin.EmptyFieldListFilter),)
    search_fields = ("reference", "film__title", "notice__reference")
    list_select_related = ("film", "notice")
    readonly_fields = ("reference", "film", "notice", "taken_down_at", "taken_down_by",
                       "restored_at", "restored_by", "restoration_reason")  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Takedown, form: Any, change: bool) -> None:
        reason = form.cleaned_data.get("restore_reason", "").strip()
        assert isinstance(request.user, User)
        if reason:
            try:
                services.takedown_restore(takedown=obj, by=request.user, reason=reason)
            except DomainError as error:
                messages.error(request, error.message)


class CourtActionForm(forms.ModelForm):
    court_action = forms.CharField(
        widget=forms.Textarea, required=False,
        label="Record a court action filed by the notice's sender (case, court, date): "
        "the film then stays down",
    )  # fmt: skip

    class Meta:
        model = CounterNotice
        fields: tuple[str, ...] = ()


@admin.register(CounterNotice)
class CounterNoticeAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    form = CourtActionForm
    list_display = ("reference", "takedown", "name", "received_at", "restore_after",
                    "court_action_at")  # fmt: skip
    search_fields = ("reference", "takedown__reference", "name")
    list_select_related = ("takedown__film",)
    readonly_fields = tuple(f.name for f in CounterNotice._meta.concrete_fields if f.name != "id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: CounterNotice, form: Any, change: bool) -> None:
        note = form.cleaned_data.get("court_action", "").strip()
        assert isinstance(request.user, User)
        if note:
            try:
                counter.court_action_record(counter=obj, by=request.user, note=note)
            except DomainError as error:
                messages.error(request, error.message)
