"""Staff-uploaded images: shown to viewers only once the worker has re-encoded them.

An upload waits in `Film.images_pending` (field -> uploaded key) while the image it
replaces stays on show; the job re-encodes it (content_app.media.images) and swaps it in
if it is still the latest upload for that field, then deletes the upload and the old image.
An upload the worker cannot decode is dropped and the reason kept in `Film.images_refused`
for the change page. Each upload has one job id, so the reconciler can tell an upload
whose job Redis lost (`images_requeue_lost`) from one still queued.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from content_app.catalogue_cache import catalogue_changed
from content_app.media import objects
from content_app.media.errors import MediaError
from content_app.media.images import image_normalize
from content_app.models import Film
from content_app.pipeline.queue import (
    GIVEN_UP,
    QUEUE_HIGH,
    RETRY,
    enqueue_cleanup,
    enqueue_or_defer,
    get_queue,
)
from content_app.pipeline.workspaces import workspace_prefix

logger = logging.getLogger(__name__)


def film_images_overridden(*, film: Film, previous: dict[str, str]) -> None:
    """Staff replaced or cleared images: keep the pipeline off them; an upload waits for its
    re-encoding while the image it replaces stays on show; a cleared one goes at once."""
    stored = Film.objects.filter(pk=film.pk).values_list("images_pending", "images_refused")[0]
    pending, refused = dict(stored[0]), dict(stored[1])
    fields: dict[str, object] = {}
    doomed: list[str] = []
    fresh: dict[str, str] = {}
    for name, old in previous.items():
        fields[f"{name}_generated"] = False
        refused.pop(name, None)  # a new upload (or none) answers an earlier refusal
        uploaded = getattr(film, name).name or ""
        if uploaded and uploaded != old:
            fields[name] = old
            if pending.get(name):
                doomed.append(pending[name])  # an earlier upload not re-encoded yet
            pending[name] = fresh[name] = uploaded
        elif not uploaded:
            pending.pop(name, None)
            doomed.append(old)
    fields["images_pending"] = pending
    fields["images_refused"] = refused
    Film.objects.filter(pk=film.pk).update(**fields)
    for name, value in fields.items():
        setattr(film, name, value)
    enqueue_cleanup(doomed)
    # Only the new uploads: one pending from before has its job already (or the reconciler's).
    for name, key in fresh.items():
        _enqueue_normalize(film.pk, name, key)


_GIVEN_UP_REASON = (
    "The worker could not re-encode this image on any attempt (a service was unreachable or "
    "the worker crashed); upload it again."
)


def image_job_id(film_id: int, field: str, upload_key: str) -> str:
    """One job id per upload (its key is unique), so enqueueing it again is not a duplicate."""
    digest = hashlib.sha256(upload_key.encode()).hexdigest()[:16]
    return f"film-{film_id}-image-{field}-{digest}"


def _enqueue_now(film_id: int, field: str, upload_key: str) -> None:
    get_queue(QUEUE_HIGH).enqueue(
        "content_app.tasks.normalize_image",
        film_id,
        field,
        upload_key,
        job_id=image_job_id(film_id, field, upload_key),
        retry=RETRY,
        description=f"film {film_id}: re-encode the {field} upload",
    )


def _enqueue_normalize(film_id: int, field: str, upload_key: str) -> None:
    transaction.on_commit(
        lambda: enqueue_or_defer(
            f"re-encoding film {film_id}'s {field}",
            lambda: _enqueue_now(film_id, field, upload_key),
        )
    )


def _job_status(film_id: int, field: str, upload_key: str) -> JobStatus | None:
    connection = get_queue(QUEUE_HIGH).connection
    try:
        job = Job.fetch(image_job_id(film_id, field, upload_key), connection=connection)
    except NoSuchJobError:
        return None
    return job.get_status(refresh=False)


def images_requeue_lost() -> list[str]:
    """Enqueue again the re-encoding of pending uploads whose job RQ no longer holds (Redis
    emptied, or the save's enqueue failed); refuse those RQ gave up on. One line each."""
    # Longer than a save takes to enqueue its job after commit: that job is not doubled.
    settled = timezone.now() - timedelta(seconds=settings.PIPELINE_RECONCILE_SETTLE)
    report: list[str] = []
    waiting = Film.objects.exclude(images_pending={}).filter(updated_at__lt=settled)
    for film_id, pending in waiting.values_list("pk", "images_pending"):
        for field, upload_key in pending.items():
            status = _job_status(film_id, field, upload_key)
            if status is None:
                _enqueue_now(film_id, field, upload_key)
                report.append(f"film {film_id}: re-enqueued {field} re-encoding")
            elif status in GIVEN_UP:
                logger.warning("film %s: %s re-encoding given up by RQ", film_id, field)
                _refuse(film_id, field, upload_key, _GIVEN_UP_REASON)
                report.append(f"film {film_id}: {field} re-encoding given up by RQ, upload refused")
            # Otherwise RQ holds it (queued, running, waiting for a retry) or it just finished.
    return report


def _pending(film_id: int, field: str, upload_key: str) -> QuerySet[Film]:
    return Film.objects.filter(pk=film_id, **{f"images_pending__{field}": upload_key})


def film_image_normalize(*, film_id: int, field: str, upload_key: str) -> None:
    """Re-encode a staff upload and show it, unless a newer upload or a deletion came since."""
    film = _pending(film_id, field, upload_key).first()
    if film is None:
        objects.delete([upload_key])
        return
    key = f"films/{film.uuid}/images/staff-{field}-{secrets.token_hex(6)}.jpg"
    with tempfile.TemporaryDirectory(prefix=workspace_prefix(film_id, f"image-{field}")) as tmp:
        source, out = Path(tmp) / "upload", Path(tmp) / "out.jpg"
        objects.download(upload_key, source)
        try:
            image_normalize(source, out, field=field)
        except MediaError as exc:
            logger.warning("film %s: %s upload refused: %s", film_id, field, exc.message)
            _refuse(film_id, field, upload_key, exc.message)
            return
        objects.upload(out, key)
    with transaction.atomic():
        current = _pending(film_id, field, upload_key).select_for_update().first()
        if current is None:
            doomed = [key, upload_key]
        else:
            doomed = [upload_key, getattr(current, field).name or ""]
            pending = {k: v for k, v in current.images_pending.items() if k != field}
            Film.objects.filter(pk=film_id).update(
                **{field: key, f"{field}_generated": False, "images_pending": pending}
            )
            catalogue_changed()
    objects.delete([k for k in doomed if k])


def _refuse(film_id: int, field: str, upload_key: str, message: str) -> None:
    """Drop the upload and keep why for staff; the image shown before stays on show."""
    with transaction.atomic():
        current = _pending(film_id, field, upload_key).select_for_update().first()
        if current is not None:
            pending = {k: v for k, v in current.images_pending.items() if k != field}
            refused = {**current.images_refused, field: message}
            Film.objects.filter(pk=film_id).update(images_pending=pending, images_refused=refused)
    objects.delete([upload_key])
