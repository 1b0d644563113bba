"""Serve media in local storage mode through a signed, expiring URL with HTTP Range support.

Behind nginx (`MEDIA_X_ACCEL_PREFIX` set) Django only checks the signature and hands the
file to nginx with X-Accel-Redirect; nginx then answers ranges itself from an `internal`
location. Without nginx (development), this view answers ranges as RFC 9110 says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from affea.errors import DomainError
from content_app.media.objects import content_type_for
from content_app.playback import local_media_key

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 256 * 1024


def _file_path(key: str) -> Path:
    try:
        path = Path(default_storage.path(key))
    except (NotImplementedError, ValueError) as exc:  # not a filesystem storage, or a bad key
        raise Http404("No such media.") from exc
    if not path.is_file():
        raise Http404("No such media.")
    return path


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Return (first, last) of one satisfiable byte range; None if it is not a single range.

    Raises ValueError when the range is syntactically valid but unsatisfiable (416).
    """
    found = _RANGE.match(header.strip())
    if not found:
        return None  # multiple ranges or other units: ignoring Range is allowed
    first_text, last_text = found.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix: the last N bytes
        suffix = int(last_text)
        if suffix == 0:
            raise ValueError("empty suffix range")
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None  # invalid range-spec: ignore the header
    if first >= size:
        raise ValueError("range starts past the end")
    return first, min(last, size - 1)


def _stream(path: Path, first: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(first)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


@require_safe
def local_media(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        key = local_media_key(token)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    content_type = content_type_for(key)
    if settings.MEDIA_X_ACCEL_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_X_ACCEL_PREFIX.rstrip("/") + "/" + quote(key)
        response["Cache-Control"] = "private, max-age=300"
        return response

    path = _file_path(key)
    stat = os.stat(path)
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    last_modified = http_date(stat.st_mtime)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": last_modified,
        "Cache-Control": "private, max-age=300",
    }

    byte_range: tuple[int, int] | None = None
    range_header = request.headers.get("Range")
    if range_header and _if_range_matches(request.headers.get("If-Range"), etag, stat.st_mtime):
        try:
            byte_range = parse_range(range_header, size)
        except ValueError:
            return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})

    if byte_range is None:
        first, length, status = 0, size, 200
    else:
        first, last = byte_range
        length, status = last - first + 1, 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return HttpResponse(status=status, content_type=content_type, headers=headers)
    return StreamingHttpResponse(
        _stream(path, first, length), status=status, content_type=content_type, headers=headers
    )


def _if_range_matches(if_range: str | None, etag: str, mtime: float) -> bool:
    """A Range applies only if If-Range (when sent) still names this version of the file."""
    if not if_range:
        return True
    if if_range.startswith(('"', "W/")):
        return if_range == etag  # strong comparison only
    since = parse_http_date_safe(if_range)
    return since is not None and int(mtime) <= since
