"""Staff-uploaded images: shown to viewers only once the worker has re-encoded them.

An upload waits in `Film.images_pending` (field -> uploaded key) while the image it
replaces stays on show; the job re-encodes it (content_app.media.images) and swaps it in
if it is still the latest upload for that field, then deletes the upload and the old image.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet

from content_app.catalogue_cache import catalogue_changed
from content_app.media import objects
from content_app.media.errors import MediaError
from content_app.media.images import image_normalize
from content_app.models import Film
from content_app.pipeline.queue import (
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
    pending = dict(Film.objects.filter(pk=film.pk).values_list("images_pending", flat=True)[0])
    fields: dict[str, object] = {}
    doomed: list[str] = []
    for name, old in previous.items():
        fields[f"{name}_generated"] = False
        uploaded = getattr(film, name).name or ""
        if uploaded and uploaded != old:
            fields[name] = old
            if pending.get(name):
                doomed.append(pending[name])  # an earlier upload not re-encoded yet
            pending[name] = uploaded
        elif not uploaded:
            pending.pop(name, None)
            doomed.append(old)
    fields["images_pending"] = pending
    Film.objects.filter(pk=film.pk).update(**fields)
    for name, value in fields.items():
        setattr(film, name, value)
    enqueue_cleanup(doomed)
    for name, key in pending.items():
        _enqueue_normalize(film.pk, name, key)


def _enqueue_normalize(film_id: int, field: str, upload_key: str) -> None:
    def enqueue() -> object:
        return get_queue(QUEUE_HIGH).enqueue(
            "content_app.tasks.normalize_image", film_id, field, upload_key, retry=RETRY
        )

    transaction.on_commit(
        lambda: enqueue_or_defer(f"re-encoding film {film_id}'s {field}", enqueue)
    )


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
    with transaction.atomic():
        current = _pending(film_id, field, upload_key).select_for_update().first()
        if current is not None:
            pending = {k: v for k, v in current.images_pending.items() if k != field}
            Film.objects.filter(pk=film_id).update(
                images_pending=pending, processing_note=f"{field.title()}: {message}"[:300]
            )
    objects.delete([upload_key])
