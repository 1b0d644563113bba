"""Checks on an object uploaded straight to S3, before a film's source may point at it."""

from __future__ import annotations

import json
import posixpath
import subprocess

from botocore.exceptions import ClientError
from django.conf import settings

from affea.errors import DomainError
from affea.storage import s3_client
from content_app.media.errors import explain_ffmpeg_failure
from content_app.media.probe import DEMUXERS, VIDEO_CONTAINERS, VIDEO_EXTENSIONS, is_cover_art
from content_app.pipeline.storage import STORAGE_ERRORS, StorageUnavailable

# ffprobe reads the head of the object (and the index, wherever the container keeps it)
# with Range requests; a video answers well within this.
REMOTE_PROBE_TIMEOUT_SECONDS = 30
REMOTE_PROBE_BYTES = 5_000_000
# Network protocols for this one call only: the object is read over a presigned URL.
_REMOTE_PROTOCOLS = "http,https,tcp,tls"
NOT_VIDEO = "The file is not a video Affea can read (its content is not video)."


def extension_refusal(extension: str) -> str:
    """The admin form's sentence for a file type Affea does not accept."""
    allowed = ", ".join(VIDEO_EXTENSIONS)
    return f"“{extension}” is not a video file type Affea accepts. Allowed: {allowed}."


def _probe_remote(url: str) -> None:
    args = [
        settings.FFPROBE_BINARY,
        "-v", "error",
        "-protocol_whitelist", _REMOTE_PROTOCOLS,
        "-format_whitelist", DEMUXERS,
        "-probesize", str(REMOTE_PROBE_BYTES),
        "-show_entries",
        "format=format_name:stream=codec_type,codec_name:stream_disposition=attached_pic",
        "-of", "json",
        url,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            args, capture_output=True, timeout=REMOTE_PROBE_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise DomainError(
            f"ffprobe could not read the file within {REMOTE_PROBE_TIMEOUT_SECONDS} s."
        ) from exc
    if done.returncode != 0:
        # ffprobe names its input in errors: never show staff a signed URL.
        stderr = done.stderr.decode("utf-8", "replace").replace(url, "the file")
        raise DomainError(explain_ffmpeg_failure(stderr, tool="ffprobe"))
    try:
        data = json.loads(done.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise DomainError("ffprobe gave an unreadable answer about the file.") from exc
    container = str((data.get("format") or {}).get("format_name") or "")
    streams = data.get("streams") or []
    has_video = any(
        s.get("codec_type") == "video" and not is_cover_art(s)
        for s in streams
        if isinstance(s, dict)
    )
    if not VIDEO_CONTAINERS.intersection(container.split(",")) or not has_video:
        raise DomainError(NOT_VIDEO)


def check_extension(filename: str) -> None:
    """Refuse a file type Affea does not accept, before a byte of it is sent."""
    extension = posixpath.splitext(filename)[1].lower().lstrip(".")
    if extension not in VIDEO_EXTENSIONS:
        raise DomainError(extension_refusal(extension))


def verify_upload(*, key: str, size: int) -> None:
    """Raise DomainError (plain words) unless object `key` is a video of `size` bytes."""
    check_extension(key)
    client = s3_client()
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise DomainError("The uploaded file is not in storage; upload it again.") from exc
        raise StorageUnavailable() from exc  # 500, 503 SlowDown...: S3's trouble, not the file's
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable() from exc
    if head["ContentLength"] != size:
        raise DomainError(
            f"The upload is incomplete: {head['ContentLength']} of {size} bytes arrived."
        )
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=120
    )
    _probe_remote(url)
