"""Staff-only JSON endpoints: Uppy's multipart protocol (as Companion speaks it) and status.

They are admin views (FilmAdmin.get_urls wraps them in admin_view): signed-in staff only,
CSRF-checked, and each one also asks for the change permission on the film (the add
permission on the add page, where the film is saved later with the form).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404

from affea.errors import DomainError
from affea.numbers import parse_id
from content_app.models import Film, SourceUpload
from content_app.pipeline.storage import StorageUnavailable
from content_app.uploads import multipart
from content_app.uploads.status import film_status, films_with_renditions

NEW = "new"


def _film(admin: ModelAdmin[Film], request: HttpRequest, film_ref: str) -> Film | None:
    """The film the upload is for (None on the add page), if this user may change it."""
    if film_ref == NEW:
        if not admin.has_add_permission(request):
            raise PermissionDenied
        return None
    film = get_object_or_404(Film, pk=parse_id(film_ref) or -1)
    if not admin.has_change_permission(request, film):
        raise PermissionDenied
    return film


def _user_id(request: HttpRequest) -> int:
    # admin_view let only signed-in staff through.
    if request.user.pk is None:
        raise PermissionDenied
    return int(request.user.pk)


def _refused(exc: DomainError) -> JsonResponse:
    if isinstance(exc, multipart.UploadRefused):
        status = 404
    elif isinstance(exc, StorageUnavailable):
        status = 503  # try again later: Uppy retries what a server error refused
    else:
        status = 400
    return JsonResponse({"error": exc.message}, status=status)


def _record(
    request: HttpRequest, film: Film | None, upload_id: str, *, assembled: bool = False
) -> SourceUpload:
    return multipart.upload_record(
        upload_id=upload_id,
        key=request.GET.get("key", ""),
        user_id=_user_id(request),
        film=film,
        assembled=assembled,
    )


def begin(admin: ModelAdmin[Film], request: HttpRequest, film_ref: str) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"error": "POST only."}, status=405)
    film = _film(admin, request, film_ref)
    try:
        body: dict[str, Any] = json.loads(request.body or b"{}")
        metadata = body.get("metadata") or {}
        size = int(metadata.get("size") or 0)
    # 1e400 is infinity (OverflowError); "[[[[…" nested deeper than Python's stack: RecursionError.
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError):
        return JsonResponse(
            {"error": "The request did not say the file's name and size."}, status=400
        )
    try:
        record = multipart.upload_begin(
            film=film,
            filename=str(body.get("filename") or ""),
            size=size,
            user_id=_user_id(request),
        )
    except DomainError as exc:
        return _refused(exc)
    return JsonResponse({"key": record.key, "uploadId": record.upload_id})


def upload(
    admin: ModelAdmin[Film], request: HttpRequest, film_ref: str, upload_id: str
) -> JsonResponse | HttpResponseNotAllowed:
    """GET lists the parts S3 holds (resume); DELETE aborts the upload."""
    film = _film(admin, request, film_ref)
    try:
        record = _record(request, film, upload_id)
        if request.method == "GET":
            return JsonResponse(multipart.uploaded_parts(record=record), safe=False)
        if request.method == "DELETE":
            multipart.upload_abort(record=record)
            return JsonResponse({})
    except DomainError as exc:
        return _refused(exc)
    return HttpResponseNotAllowed(["GET", "DELETE"])


def sign_part(
    admin: ModelAdmin[Film], request: HttpRequest, film_ref: str, upload_id: str, part: int
) -> JsonResponse:
    film = _film(admin, request, film_ref)
    try:
        record = _record(request, film, upload_id)
        return JsonResponse({"url": multipart.part_url(record=record, part_number=part)})
    except DomainError as exc:
        return _refused(exc)


def complete(
    admin: ModelAdmin[Film], request: HttpRequest, film_ref: str, upload_id: str
) -> JsonResponse:
    """Assemble and verify the object; a saved film then points at it and is processed.

    On the add page nothing is assembled yet: the form carries the upload id and its save
    finishes the upload (FilmForm), so a form never saved leaves only an incomplete upload,
    which the scheduled abort removes.
    """
    if request.method != "POST":
        return JsonResponse({"error": "POST only."}, status=405)
    film = _film(admin, request, film_ref)
    try:
        # Asked again after storage failed during the check: the object S3 assembled then.
        record = _record(request, film, upload_id, assembled=film is not None)
        if film is None:
            # Uppy hands only `location` and `key` on to the page: the token the form
            # carries travels as the location.
            token = f"{upload_id} {record.key}"
            return JsonResponse({"location": token, "key": record.key})
        key = multipart.upload_finish(record=record)
        multipart.film_source_attach(film=film, key=key)
    except DomainError as exc:
        return _refused(exc)
    film.refresh_from_db()
    return JsonResponse({"location": "", "key": key, "status": film_status(film)})


def status(admin: ModelAdmin[Film], request: HttpRequest) -> JsonResponse:
    """Processing status of the films `?ids=1,2,3` this user may view."""
    ids = [i for i in map(parse_id, request.GET.get("ids", "").split(",")[:200]) if i is not None]
    films = [f for f in films_with_renditions(ids) if admin.has_view_permission(request, f)]
    return JsonResponse({"films": [film_status(f) for f in films]})
