"""What the film admin pages add for direct uploads, live status, the probe and the timeline."""

from __future__ import annotations

from functools import partial, update_wrapper
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from affea.errors import DomainError
from affea.numbers import parse_id
from content_app import services
from content_app.media.probe import VIDEO_EXTENSIONS
from content_app.models import Film
from content_app.uploads import views
from content_app.uploads.status import (
    film_image_notices,
    film_renditions,
    film_status,
    film_timeline,
    films_with_renditions,
)

if TYPE_CHECKING:
    _Base = admin.ModelAdmin[Film]
else:
    _Base = admin.ModelAdmin

REPROCESS_EXPLAINED = (
    "Reprocess reads the current source again and makes every rendition, and the generated "
    "thumbnail and poster, anew; images staff uploaded are kept. Viewers keep watching the "
    "current version while the new renditions are made; once every new rendition and image "
    "is ready, playback switches to the new version at once, and the old renditions are "
    "deleted when the links viewers were given for them have expired. If the new processing "
    "fails, the current version stays on air and this page shows why. (A film with nothing "
    "on air becomes playable as soon as its first new rendition is ready.) Use it after a "
    "failure, or when the source itself is fine but its renditions are not."
)

_PROBE_FIELDS = (
    ("container", "Container"),
    ("video_codec", "Video codec"),
    ("coded_size", "Coded size"),
    ("display_size", "Display size"),
    ("sample_aspect_ratio", "Sample aspect ratio"),
    ("frame_rate", "Frame rate"),
    ("colour", "Colour"),
    ("field_order", "Field order"),
    ("rotation", "Rotation"),
    ("audio", "Audio"),
    ("duration", "Duration"),
    ("size", "Size"),
)


def human_bytes(size: int | None) -> str:
    if not size:
        return "—"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def probe_rows(probe: dict[str, Any]) -> list[tuple[str, str]]:
    """Film.source_probe in words, for the change page."""
    if not probe:
        return []
    hdr = probe.get("color_transfer") in ("smpte2084", "arib-std-b67")
    colour = " / ".join(
        str(probe.get(k) or "?") for k in ("color_primaries", "color_transfer", "color_space")
    )
    values = {
        "container": probe.get("container", ""),
        "video_codec": f"{probe.get('video_codec', '')} ({probe.get('pix_fmt', '')}, "
        f"{probe.get('bit_depth', 8)}-bit)",
        "coded_size": f"{probe.get('coded_width')}x{probe.get('coded_height')}",
        "display_size": _display(probe),
        "sample_aspect_ratio": probe.get("sample_aspect_ratio", "1:1"),
        "frame_rate": f"{probe.get('avg_frame_rate')} fps average, "
        f"{probe.get('real_frame_rate')} fps base",
        "colour": f"{colour}{' — HDR, tone-mapped to SDR' if hdr else ''}",
        "field_order": probe.get("field_order") or "progressive / unknown",
        "rotation": f"{probe.get('rotation', 0)}°",
        "audio": f"{probe.get('audio_channels')} channel(s), {probe.get('audio_layout') or '?'}"
        if probe.get("has_audio")
        else "none",
        "duration": f"{float(probe.get('duration') or 0):.2f} s",
        "size": human_bytes(probe.get("size")),
    }
    return [(label, str(values[name])) for name, label in _PROBE_FIELDS]


def _display(probe: dict[str, Any]) -> str:
    width, height = int(probe.get("width") or 0), int(probe.get("height") or 0)
    if not width or not height:
        return "—"
    return f"{width}x{height} ({width / height:.2f}:1)"


class FilmUploadAdminMixin(_Base):
    """URLs, media and page context of the film admin's direct uploads and live status."""

    class Media:
        css = {"all": ("vendor/uploader/uploader.css", "css/admin-film.css")}
        js = ("vendor/uploader/uploader.js", "js/admin-status.js")

    def get_form(
        self, request: HttpRequest, obj: Film | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Film]]:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"uploader_id": request.user.pk})

    def get_urls(self) -> list[URLPattern]:
        def wrap(view: Any) -> Any:
            bound = partial(view, self)
            return update_wrapper(self.admin_site.admin_view(bound), view)

        prefix = "<str:film_ref>/upload/s3/multipart"
        own = [
            path("status/", wrap(views.status), name="content_app_film_status"),
            path(f"{prefix}", wrap(views.begin), name="content_app_film_upload_begin"),
            path(f"{prefix}/<str:upload_id>", wrap(views.upload), name="content_app_film_upload"),
            path(
                f"{prefix}/<str:upload_id>/complete",
                wrap(views.complete),
                name="content_app_film_upload_complete",
            ),
            path(
                f"{prefix}/<str:upload_id>/<int:part>",
                wrap(views.sign_part),
                name="content_app_film_upload_part",
            ),
            path(
                "<int:film_id>/reprocess/",
                wrap(FilmUploadAdminMixin.reprocess_view),
                name="content_app_film_reprocess",
            ),
        ]
        return own + super().get_urls()

    def reprocess_view(self, request: HttpRequest, film_id: int) -> HttpResponse:
        film = get_object_or_404(Film, pk=film_id)
        if not self.has_change_permission(request, film):
            raise PermissionDenied
        change_url = reverse("admin:content_app_film_change", args=[film.pk])
        if request.method == "POST":
            try:
                services.film_reprocess(film=film)
                self.message_user(request, "Reprocessing started.", messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "film": film,
            "explained": REPROCESS_EXPLAINED,
            "change_url": change_url,
            "title": f"Reprocess “{film.title}”",
        }
        return TemplateResponse(request, "admin/content_app/film/reprocess.html", context)

    def _upload_context(self, request: HttpRequest, film: Film | None) -> dict[str, Any]:
        ref = str(film.pk) if film else views.NEW
        base = reverse("admin:content_app_film_upload_begin", args=[ref])
        context: dict[str, Any] = {"status_url": reverse("admin:content_app_film_status")}
        # Staff who may only view a film are offered no control that would refuse them.
        may_change = self.has_change_permission(request, film) if film else True
        if may_change:
            context.update(
                uploader_endpoint=base.removesuffix("/s3/multipart"),
                uploader_mode="change" if film else "add",
                uploader_part_size=settings.UPLOAD_PART_SIZE,
                uploader_extensions=",".join(VIDEO_EXTENSIONS),
            )
        if film is not None:
            renditions = film_renditions(film)
            context.update(
                film_status=film_status(film),
                probe_rows=probe_rows(film.source_probe or {}),
                timeline=film_timeline(film),
                staff_renditions=renditions,
                on_air_rows=[
                    (r.quality, human_bytes(r.size), r.bitrate) for r in renditions.on_air
                ],
                in_progress_rows=[
                    (r.quality, r.get_status_display(), human_bytes(r.size), r.bitrate, r.error)
                    for r in renditions.in_progress
                ],
                image_notices=film_image_notices(film),
            )
            if may_change:
                context.update(
                    reprocess_url=reverse("admin:content_app_film_reprocess", args=[film.pk]),
                    reprocess_explained=REPROCESS_EXPLAINED,
                )
        return context

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        film = films_with_renditions([parse_id(object_id) or -1]).first()
        context = {**self._upload_context(request, film), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {**self._upload_context(request, None), **(extra_context or {})}
        return super().add_view(request, form_url, context)
