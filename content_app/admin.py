"""Admin of the content app: where staff upload films and watch them being processed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.validators import FileExtensionValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify

from affea.admin_selection import CheckedSelectionMixin
from affea.errors import DomainError
from content_app import services
from content_app.catalogue_cache import catalogue_changed
from content_app.media.errors import MediaError
from content_app.media.images import image_check
from content_app.media.probe import VIDEO_EXTENSIONS
from content_app.models import Category, Film, ProcessingState, Rendition, Subtitle
from content_app.pipeline import (
    StorageUnavailable,
    film_images_overridden,
    film_processing_restart,
    film_uploads_store,
    queue_available,
)
from content_app.subtitles import language_tag, to_webvtt
from content_app.uploads import multipart as direct_uploads
from content_app.uploads.admin import FilmUploadAdminMixin
from content_app.uploads.status import film_renditions, rendition_role, with_staff_renditions

_validate_video_extension = FileExtensionValidator(
    allowed_extensions=list(VIDEO_EXTENSIONS),
    message=(
        "“%(extension)s” is not a video file type Affea accepts. Allowed: %(allowed_extensions)s."
    ),
)


@admin.register(Category)
class CategoryAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "order")
    list_editable = ("order",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)

    # Film items carry their category's name: a change shows on every cached list.
    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        catalogue_changed()

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        super().delete_model(request, obj)
        catalogue_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        super().delete_queryset(request, queryset)
        catalogue_changed()


class CheckedImageField(forms.ImageField):
    """Django's image field with Affea's pixel bound checked first, from the header alone.

    Django's own check opens the image with Pillow, whose bomb guard refuses a picture
    above its own bound with Django's vague "not an image" (and warns below it): staff
    must read how large the picture is and what is accepted.
    """

    def to_python(self, data: Any) -> Any:
        if data and hasattr(data, "content_type"):  # a new upload, not the stored file
            try:
                image_check(data)
            except MediaError as exc:
                raise forms.ValidationError(exc.message, code="too_many_pixels") from exc
        return super().to_python(data)


class FilmForm(forms.ModelForm):
    # Set by the upload started on the add page (straight to S3): "<upload id> <key>".
    source_upload = forms.CharField(required=False, widget=forms.HiddenInput)
    uploader_id: int | None = None  # the staff user, set by FilmAdmin.get_form

    class Meta:
        model = Film
        fields = (
            "title",
            "slug",
            "category",
            "year",
            "director",
            "description",
            "credits",
            "rights_holder",
            "rights_holder_email",
            "licence",
            "licence_starts_at",
            "licence_ends_at",
            "source",
            "thumbnail",
            "poster",
            "is_featured",
            "public_playback",
        )
        field_classes = {"thumbnail": CheckedImageField, "poster": CheckedImageField}

    def clean_source(self) -> Any:
        source = self.cleaned_data.get("source")
        # Only a new upload is checked; a stored source keeps its generated key.
        if source and hasattr(source, "content_type"):
            _validate_video_extension(source)
        return source

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("licence_starts_at"), cleaned.get("licence_ends_at")
        if starts and ends and ends <= starts:  # the model's constraint, said in plain words
            self.add_error("licence_ends_at", "The licence must end after it starts.")
        # New files go to storage now, so a storage outage is a form error saving nothing.
        uploads = {
            name: cleaned[name]
            for name in ("source", "thumbnail", "poster")
            if hasattr(cleaned.get(name), "content_type")
        }
        if uploads and not self.errors:
            try:
                cleaned.update(film_uploads_store(film=self.instance, uploads=uploads))
            except StorageUnavailable as exc:
                raise forms.ValidationError(exc.message) from exc
        token = cleaned.get("source_upload")
        if token and not self.instance.pk and not self.errors and self.uploader_id:
            try:
                key, film_uuid = direct_uploads.upload_finish_for_new_film(
                    token=token, user_id=self.uploader_id
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
            cleaned["source"] = key
            self.instance.uuid = film_uuid
        return cleaned

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or slugify(self.cleaned_data.get("title") or "")
        if not slug:
            raise forms.ValidationError("Give the film a slug (letters, digits, hyphens).")
        base = slug[:200]
        slug = _free_slug(base, exclude_pk=self.instance.pk)
        if slug != base:  # FilmAdmin.save_model tells staff the address the film got
            self.slug_taken = base
        return slug

    slug_taken = ""


def _free_slug(base: str, *, exclude_pk: int | None) -> str:
    """`base`, or the first `base-N` no other film has."""
    slug, number = base, 2
    others = Film.objects.all() if exclude_pk is None else Film.objects.exclude(pk=exclude_pk)
    while others.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def _save_taking_a_free_slug(obj: Film, form: FilmForm, **save: Any) -> None:
    """Save `obj`; if another editor's film took its slug since the form checked it, take
    the next free one (and tell staff, as clean_slug does) instead of failing the save."""
    for attempt in range(10):
        try:
            with transaction.atomic():
                obj.save(**save)
            return
        except IntegrityError:
            clash = Film.objects.exclude(pk=obj.pk).filter(slug=obj.slug).exists()
            if not clash or attempt == 9:
                raise  # another constraint, or editors racing on and on: not ours to mend
            form.slug_taken = form.slug_taken or obj.slug
            obj.slug = _free_slug(form.slug_taken, exclude_pk=obj.pk)


class RenditionInline(admin.TabularInline):
    model = Rendition
    extra = 0
    can_delete = False
    fields = (
        "quality",
        "version",
        "status",
        "width",
        "height",
        "bitrate",
        "size",
        "media_key",
        "playlist_key",
        "error",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    # The version on air first, then the one being made.
    ordering = ("source_version", "height")

    def has_add_permission(self, request: HttpRequest, obj: Film | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rendition]:
        # `version` reads each row's film: joined, not one query per row. Replaced renditions
        # kept for players' links (pipeline.live) are neither on air nor being made.
        return super().get_queryset(request).filter(retired_at=None).select_related("film")

    @admin.display(description="Source version")
    def version(self, rendition: Rendition) -> str:
        return rendition_role(rendition.film, rendition)


class SubtitleForm(forms.ModelForm):
    class Meta:
        model = Subtitle
        fields = ("language", "label", "file")
        help_texts = {"file": "WebVTT (.vtt) or SubRip (.srt); SRT is converted to WebVTT."}

    def clean_language(self) -> str:
        return language_tag(self.cleaned_data["language"])

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        # Only a new upload is converted; a stored file is already WebVTT.
        if upload and hasattr(upload, "content_type"):
            return to_webvtt(upload)
        return upload


class SubtitleFormSet(forms.BaseInlineFormSet):
    def save(self, commit: bool = True) -> Any:
        saved = super().save(commit=commit)
        if self.has_changed():
            catalogue_changed()  # film items list their subtitles
        return saved


class SubtitleInline(admin.TabularInline):
    model = Subtitle
    form = SubtitleForm
    formset = SubtitleFormSet
    extra = 0


@admin.register(Film)
class FilmAdmin(CheckedSelectionMixin, FilmUploadAdminMixin, admin.ModelAdmin):
    form = FilmForm
    list_display = (
        "thumbnail_preview",
        "title",
        "processing",
        "qualities_on_air",
        "is_published",
        "licence_window",
        "category",
        "created_at",
    )
    list_display_links = ("thumbnail_preview", "title")
    list_filter = ("processing_state", "is_published", "is_featured", "category")
    search_fields = ("title", "director", "credits", "slug")
    list_per_page = 50
    prepopulated_fields = {"slug": ("title",)}
    inlines = (SubtitleInline, RenditionInline)
    actions = ("publish", "unpublish", "reprocess")
    readonly_fields = (
        "processing_state",
        "processing_progress",
        "processing_error",
        "processing_note",
        "duration",
        "source_width",
        "source_height",
        "is_published",
        "published_at",
        "taken_down_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("title", "slug", "category", "year", "director", "description")}),
        (
            "Credits and rights",
            {
                "fields": (
                    "credits",
                    "rights_holder",
                    "rights_holder_email",
                    "licence",
                    ("licence_starts_at", "licence_ends_at"),
                )
            },
        ),
        (
            "Source and images",
            {
                "fields": ("source", "source_upload", "thumbnail", "poster"),
                "description": "Upload the original video; Affea makes the renditions, the "
                "thumbnail and the poster. Images uploaded here replace generated ones.",
            },
        ),
        (
            "Processing",
            {
                "fields": (
                    "processing_state",
                    "processing_progress",
                    "processing_error",
                    "processing_note",
                    "duration",
                    "source_width",
                    "source_height",
                )
            },
        ),
        (
            "Publication",
            {
                "fields": (
                    "is_published",
                    "published_at",
                    "is_featured",
                    "public_playback",
                    "taken_down_at",
                )
            },
        ),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Film]:
        return with_staff_renditions(super().get_queryset(request).select_related("category"))

    @admin.display(description="")
    def thumbnail_preview(self, film: Film) -> str:
        if not film.thumbnail:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="96" height="54" style="object-fit:cover">',
            film.thumbnail.url,
        )

    @admin.display(description="State", ordering="processing_state")
    def processing(self, film: Film) -> str:
        # The span is what static/js/admin-status.js updates live.
        if film.processing_state == ProcessingState.PROCESSING:
            note = f" — {film.processing_note}" if film.processing_note else ""
            text = f"processing {film.processing_progress}%{note}"
        elif film.processing_state == ProcessingState.ERROR:
            text = f"error — {film.processing_error}"
        else:
            text = film.get_processing_state_display().lower()
        return format_html(
            '<span data-film-status="{}" data-state="{}">{}</span>',
            film.pk,
            film.processing_state,
            text,
        )

    @admin.display(description="On air")
    def qualities_on_air(self, film: Film) -> str:
        """What viewers get now and, during a reprocess, how far the new source is."""
        renditions = film_renditions(film)
        on_air = ", ".join(r.quality for r in renditions.on_air) or "—"
        if not renditions.replacing:
            return on_air
        return format_html(
            '{}<br><span class="film-new-version">new source: {}</span>',
            on_air,
            renditions.in_progress_summary(),
        )

    @admin.display(description="Licence window", ordering="licence_starts_at")
    def licence_window(self, film: Film) -> str:
        # The legal app publishes and unpublishes at these times (legal_app.licences).
        starts, ends = film.licence_starts_at, film.licence_ends_at
        if starts is None and ends is None:
            return "—"
        start = f"{timezone.localtime(starts):%Y-%m-%d %H:%M}" if starts else "…"
        end = f"{timezone.localtime(ends):%Y-%m-%d %H:%M}" if ends else "…"
        return f"{start} → {end}"

    def save_model(self, request: HttpRequest, obj: Film, form: Any, change: bool) -> None:
        if not change:
            _save_taking_a_free_slug(obj, form)
            if form.cleaned_data.get("source_upload"):
                direct_uploads.upload_claimed(film=obj)
            # Uploaded images reach viewers once the worker has re-encoded them.
            added = {name: "" for name in ("thumbnail", "poster") if name in form.changed_data}
            if added:
                film_images_overridden(film=obj, previous=added)
        else:
            # Only what the editor changed is written, so a save never overwrites the state
            # that a worker recorded while the form was being processed.
            model_fields = {f.name for f in Film._meta.concrete_fields}
            changed = [name for name in form.changed_data if name in model_fields]
            images = [name for name in ("thumbnail", "poster") if name in changed]
            # Locked until the save commits: a step recording generated images meanwhile
            # waits, then finds the staff upload pending and keeps off that field.
            locked = Film.objects.select_for_update().filter(pk=obj.pk)
            previous = locked.values(*images).first() if images else None
            if changed:
                _save_taking_a_free_slug(obj, form, update_fields=[*changed, "updated_at"])
                catalogue_changed()
            if previous:
                film_images_overridden(film=obj, previous=previous)
        if form.slug_taken:
            self.message_user(
                request,
                f"Another film already has the slug “{form.slug_taken}”: this one is "
                f"“{obj.slug}” (its page is /films/{obj.slug}/).",
                messages.WARNING,
            )
        # Started here, so the page staff land on shows it; the job the save enqueued then
        # finds this source already started and does nothing.
        if "source" in form.changed_data or form.cleaned_data.get("source_upload"):
            film_processing_restart(film=obj)
            if not queue_available():
                self.message_user(
                    request,
                    "The film was saved, but the processing queue cannot be reached: "
                    "processing will start when the queue is back.",
                    messages.WARNING,
                )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            catalogue_changed()  # subtitles show in items and in the HLS master

    def delete_model(self, request: HttpRequest, obj: Film) -> None:
        super().delete_model(request, obj)
        catalogue_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Film]) -> None:
        super().delete_queryset(request, queryset)
        catalogue_changed()

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[Film], service: Any, verb: str
    ) -> None:
        done, unchanged, failed = 0, 0, []
        for film in queryset:
            try:
                # A service answers False when there was nothing to do (published already).
                changed = service(film=film) is not False
            except DomainError as exc:
                failed.append(exc.message)
                continue
            done, unchanged = done + changed, unchanged + (not changed)
        if done:
            self.message_user(request, f"{verb} {done} film(s).", messages.SUCCESS)
        if unchanged:
            self.message_user(
                request,
                f"{unchanged} film(s) needed nothing: {verb.lower()} already.",
                messages.INFO,
            )
        for message in failed:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Publish selected films", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Film]) -> None:
        self._apply(request, queryset, services.film_publish, "Published")

    @admin.action(description="Unpublish selected films", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Film]) -> None:
        self._apply(request, queryset, services.film_unpublish, "Unpublished")

    @admin.action(
        description="Reprocess selected films (make all renditions again)", permissions=["change"]
    )
    def reprocess(self, request: HttpRequest, queryset: QuerySet[Film]) -> None:
        self._apply(request, queryset, services.film_reprocess, "Reprocessing")
