"""Moving files between a worker's temp dir and object storage, streamed, never via memory."""

from __future__ import annotations

import posixpath
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from boto3.s3.transfer import TransferConfig
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile

from affea.storage import s3_client

# One table for what we store and what players are told they receive.
CONTENT_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".m4s": "video/mp4",
    ".m4v": "video/mp4",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".vtt": "text/vtt",
}


def content_type_for(key: str) -> str:
    return CONTENT_TYPES.get(posixpath.splitext(key)[1].lower(), "application/octet-stream")


def _transfer_config() -> TransferConfig | None:
    # The same bounded part buffering as uploads through the admin: workers stay small too.
    return getattr(settings, "AWS_S3_TRANSFER_CONFIG", None)


def _uses_s3() -> bool:
    return settings.STORAGE_BACKEND == "s3"


def download(key: str, dest: Path) -> None:
    """Copy object `key` to the local file `dest` (S3: ranged multipart GETs)."""
    if _uses_s3():
        s3_client().download_file(
            settings.AWS_STORAGE_BUCKET_NAME, key, str(dest), Config=_transfer_config()
        )
    else:
        shutil.copyfile(default_storage.path(key), dest)


def upload(path: Path, key: str) -> None:
    """Store the local file `path` as object `key` (S3: multipart PUTs for large files)."""
    content_type = content_type_for(key)
    if _uses_s3():
        s3_client().upload_file(
            str(path),
            settings.AWS_STORAGE_BUCKET_NAME,
            key,
            ExtraArgs={"ContentType": content_type},
            Config=_transfer_config(),
        )
    else:
        target = Path(default_storage.path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def store(file: File, key: str) -> None:
    """Store an uploaded file as object `key`, a key no other object has.

    A file Django spooled to disk is sent from its path: s3transfer then reads each part
    from the disk as it sends it, whereas from a file object it copies each part into
    memory, which grew the web process with every large admin upload.
    """
    if isinstance(file, TemporaryUploadedFile):
        upload(Path(file.temporary_file_path()), key)
    elif _uses_s3():
        file.seek(0)
        s3_client().upload_fileobj(
            file,
            settings.AWS_STORAGE_BUCKET_NAME,
            key,
            ExtraArgs={"ContentType": content_type_for(key)},
            Config=_transfer_config(),
        )
    else:
        default_storage.save(key, file)


def delete(keys: Iterable[str]) -> None:
    """Delete the objects `keys`; deleting a missing object is not an error."""
    wanted = sorted({key for key in keys if key})
    if not wanted:
        return
    if _uses_s3():
        client = s3_client()
        for start in range(0, len(wanted), 1000):
            batch = wanted[start : start + 1000]
            client.delete_objects(
                Bucket=settings.AWS_STORAGE_BUCKET_NAME,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
    else:
        for key in wanted:
            default_storage.delete(key)


def list_keys(prefix: str) -> list[str]:
    """Return every object key under `prefix`."""
    if _uses_s3():
        paginator = s3_client().get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys
    root = Path(default_storage.path(""))
    base = root / prefix
    if not base.exists():
        return []
    if base.is_file():
        return [prefix]
    return [str(p.relative_to(root)) for p in base.rglob("*") if p.is_file()]


def abort_incomplete_uploads(*, prefix: str, older_than: timedelta) -> list[str]:
    """Abort multipart uploads under `prefix` begun more than `older_than` ago; return keys."""
    if not _uses_s3():
        return []
    client = s3_client()
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    cutoff = datetime.now(UTC) - older_than
    aborted: list[str] = []
    for page in client.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix=prefix
    ):
        for upload in page.get("Uploads", []):
            if upload["Initiated"] <= cutoff:
                client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                aborted.append(upload["Key"])
    return aborted
