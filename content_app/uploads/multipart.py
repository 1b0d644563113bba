"""S3 multipart uploads begun by staff for a film's source, bound to who began them.

What an upload is for (film, key, declared size, user) is a `SourceUpload` row under its
upload id: every later call must name the same key and come from the same user, so a
signature can only ever be made for that one upload. A row older than
UPLOAD_ABANDON_AFTER no longer counts; the reconciler deletes it with its parts (an
object assembled for a film never saved then goes with the orphan sweep).
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from affea.errors import DomainError
from affea.storage import s3_client
from content_app.media import objects
from content_app.models import Film, SourceUpload, film_source_key
from content_app.pipeline import film_processing_restart
from content_app.pipeline.storage import STORAGE_ERRORS, StorageUnavailable
from content_app.uploads.verify import check_extension, verify_upload

# S3's limits: parts are numbered 1 to 10,000 (Uppy makes parts larger for a file that
# would need more) and an object holds at most 5 TiB.
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = 5 * 1024**4
# S3's answers to CompleteMultipartUpload that blame the parts themselves.
_PARTS_REFUSED = frozenset(
    {"EntityTooSmall", "EntityTooLarge", "InvalidPart", "InvalidPartOrder", "MalformedXML"}
)


class UploadRefused(DomainError):
    default_message = "This upload is not known (it expired or was begun by someone else)."


def _bucket() -> str:
    return settings.AWS_STORAGE_BUCKET_NAME


def upload_begin(*, film: Film | None, filename: str, size: int, user_id: int) -> SourceUpload:
    """Start a multipart upload under a generated key for `film` (or a film not saved yet)."""
    if size <= 0:
        raise DomainError("The file is empty (0 bytes).")
    if size > MAX_OBJECT_SIZE:
        raise DomainError("The file is larger than 5 TiB, the most storage holds in one object.")
    check_extension(filename)
    target = film or Film(uuid=uuid.uuid4())
    key = film_source_key(target, filename)
    try:
        created = s3_client().create_multipart_upload(
            Bucket=_bucket(), Key=key, ContentType=objects.content_type_for(key)
        )
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable() from exc
    return SourceUpload.objects.create(
        upload_id=created["UploadId"],
        key=key,
        size=size,
        user_id=user_id,
        film=film,
        film_uuid=target.uuid,
    )


def upload_record(
    *, upload_id: str, key: str, user_id: int, film: Film | None, assembled: bool = False
) -> SourceUpload:
    """The upload `upload_id` if it is `key`'s, was begun by this user for this film, and
    is not abandoned; one S3 already assembled only if `assembled` (to finish it again)."""
    if "\x00" in upload_id or "\x00" in key:
        # PostgreSQL text cannot hold NUL: such a reference names no upload.
        raise UploadRefused()
    records = SourceUpload.objects.in_progress().filter(
        upload_id=upload_id, key=key, user_id=user_id, film=film
    )
    if not assembled:
        records = records.filter(assembled_at=None)  # its parts can no longer be touched
    record = records.first()
    if record is None:
        raise UploadRefused()
    return record


def part_url(*, record: SourceUpload, part_number: int) -> str:
    """A short-lived URL to PUT part `part_number` of this upload, for the browser."""
    if not 1 <= part_number <= MAX_PARTS:
        raise DomainError(f"Part numbers run from 1 to {MAX_PARTS}.")
    return s3_client(public=True).generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": _bucket(),
            "Key": record.key,
            "UploadId": record.upload_id,
            "PartNumber": part_number,
        },
        ExpiresIn=settings.UPLOAD_PART_URL_TTL,
    )


def uploaded_parts(*, record: SourceUpload) -> list[dict[str, Any]]:
    """The parts S3 holds for this upload (number, ETag, size), so a browser can resume."""
    parts: list[dict[str, Any]] = []
    paginator = s3_client().get_paginator("list_parts")
    try:
        for page in paginator.paginate(Bucket=_bucket(), Key=record.key, UploadId=record.upload_id):
            parts += [
                {"PartNumber": p["PartNumber"], "ETag": p["ETag"], "Size": p["Size"]}
                for p in page.get("Parts", [])
            ]
    except ClientError as exc:
        raise UploadRefused() from exc
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable() from exc
    return parts


def upload_finish(*, record: SourceUpload) -> str:
    """Assemble the parts S3 holds, verify the object (deleted if refused); return its key.

    The parts list is S3's own, not the browser's, so nothing but what was uploaded counts.
    Finishing again (after storage failed during the check, or a form sent back) checks
    the object S3 assembled the first time. A film's own upload is then done; one for a
    film not saved yet stays until the film is saved with it (`upload_claimed`).
    """
    if record.assembled_at is None:
        _assemble(record)
    try:
        verify_upload(key=record.key, size=record.size)
    except StorageUnavailable:
        raise  # storage's failure, not the file's: kept for the retry
    except DomainError:
        SourceUpload.objects.filter(pk=record.pk).delete()
        objects.delete([record.key])
        raise
    if record.film_id is not None:
        SourceUpload.objects.filter(pk=record.pk).delete()
    return record.key


def _assemble(record: SourceUpload) -> None:
    parts = uploaded_parts(record=record)
    if not parts:
        raise DomainError("No part of the file arrived; upload it again.")
    try:
        s3_client().complete_multipart_upload(
            Bucket=_bucket(),
            Key=record.key,
            UploadId=record.upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
            },
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "NoSuchUpload":
            raise UploadRefused() from exc
        if code not in _PARTS_REFUSED:
            raise StorageUnavailable() from exc  # its failure, not the file's: parts kept
        # The parts cannot make an object (one too small, one changed): asking again
        # would be refused again, so they go, and staff are told to upload anew.
        upload_abort(record=record)
        raise DomainError(
            f"Storage could not assemble the uploaded parts ({code}); upload the file again."
        ) from exc
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable() from exc
    record.assembled_at = timezone.now()
    SourceUpload.objects.filter(pk=record.pk).update(assembled_at=record.assembled_at)


def upload_abort(*, record: SourceUpload) -> None:
    """Abort the upload: S3 drops its parts; nothing of it remains."""
    SourceUpload.objects.filter(pk=record.pk).delete()
    try:
        s3_client().abort_multipart_upload(
            Bucket=_bucket(), Key=record.key, UploadId=record.upload_id
        )
    except ClientError:
        pass  # already completed or aborted: nothing left to drop
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable() from exc


@transaction.atomic
def film_source_attach(*, film: Film, key: str) -> int:
    """Point `film`'s source at the verified object `key` and start processing it.

    The same path as a form upload: the save's signal drops the previous source after
    commit, and processing restarts from the probe; return the new source version.
    """
    locked = Film.objects.select_for_update().get(pk=film.pk)
    locked.source.name = key
    locked.save(update_fields=["source", "updated_at"])
    film.source.name = key
    return film_processing_restart(film=film)


def upload_finish_for_new_film(*, token: str, user_id: int) -> tuple[str, str]:
    """Finish an upload begun on the add page (`token` is "<upload id> <key>").

    Return the key and the uuid the film must get, since the key lives under it.
    """
    upload_id, _, key = token.strip().partition(" ")
    record = upload_record(upload_id=upload_id, key=key, user_id=user_id, film=None, assembled=True)
    return upload_finish(record=record), str(record.film_uuid)


def upload_claimed(*, film: Film) -> None:
    """The add page's upload became `film`'s source: nothing is left to finish."""
    SourceUpload.objects.filter(film=None, key=film.source.name or "").delete()
