"""Objects of a film in storage: where they live and how they are deleted."""

from __future__ import annotations

import logging
from datetime import timedelta

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from django.db.models import FileField
from s3transfer.exceptions import RetriesExceededError, S3UploadFailedError

from affea.errors import DomainError
from content_app.media import objects
from content_app.models import Film, Rendition

logger = logging.getLogger(__name__)

# What storage raises when it is unreachable or refuses (S3), or the disk is full (local).
STORAGE_ERRORS = (
    BotoCoreError,
    ClientError,
    Boto3Error,
    S3UploadFailedError,
    RetriesExceededError,
    OSError,
)


def film_prefix(film: Film) -> str:
    return f"films/{film.uuid}/"


def rendition_keys(renditions: list[Rendition]) -> list[str]:
    return [key for r in renditions for key in (r.media_key, r.playlist_key) if key]


def storage_delete(*, keys: list[str], prefixes: list[str]) -> None:
    """Delete objects by key and everything under each prefix."""
    objects.delete([*keys, *(key for prefix in prefixes for key in objects.list_keys(prefix))])


class StorageUnavailable(DomainError):
    default_message = (
        "File storage cannot be reached right now, so nothing was saved. Try again in a "
        "few minutes."
    )


def film_uploads_store(*, film: Film, uploads: dict[str, File]) -> dict[str, str]:
    """Store a form's new files (field name -> upload) under generated keys; return the keys.

    Done before the row is saved, so a storage outage is a form error that saves nothing;
    whatever was stored or begun (multipart parts) is removed again.
    """
    stored: dict[str, str] = {}
    key = ""
    try:
        for name, upload in uploads.items():
            field = Film._meta.get_field(name)
            assert isinstance(field, FileField)
            # Generated keys are unique (a fresh uuid each), so nothing is overwritten.
            key = field.generate_filename(film, upload.name or "upload")
            objects.store(upload, key)
            stored[name] = key
    except STORAGE_ERRORS as exc:
        logger.warning("film %s: upload of %s failed: %s", film.pk, key, exc)
        _forget([*stored.values(), key])
        raise StorageUnavailable() from exc
    return stored


def _forget(keys: list[str]) -> None:
    # Best effort: storage may be down still; the reconciler aborts stale uploads later.
    try:
        objects.delete(keys)
        for key in keys:
            objects.abort_incomplete_uploads(prefix=key, older_than=timedelta(0))
    except STORAGE_ERRORS as exc:
        logger.info("clean-up after a failed upload postponed: %s", exc)
