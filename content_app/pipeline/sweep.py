"""The orphan sweep: objects under films/ that no row refers to are deleted, once surely unused.

Objects are deleted by jobs enqueued when rows stop naming them (pipeline.live, the film
signals), some of them delayed so that players keep their signed URLs for a while. Those
jobs live only in Redis: one lost with it leaves its objects in the bucket for good. The
sweep, run daily by RQ's cron scheduler (affea/cron.py), compares what the bucket holds
under films/ with every key the database names and deletes the rest, with two guards:

- age: an object younger than STORAGE_ORPHAN_AGE is left alone, since a running step or
  an upload may have stored it and not recorded it yet;
- grace: an old object may have stopped being referenced a moment ago (the renditions of
  a version just replaced, which players hold signed URLs to), so its deletion runs a
  signed URL's life later (`old_renditions_grace`), and that job checks again that no row
  names it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Max
from django.utils import timezone

from affea.backup import referenced_keys
from content_app.media import objects
from content_app.models import Film, Rendition, SourceUpload
from content_app.pipeline.live import old_renditions_grace, staged_images
from content_app.pipeline.queue import RETRY, get_queue

logger = logging.getLogger(__name__)

FILMS_PREFIX = "films/"
DELETE_FUNC = "content_app.pipeline.sweep.orphans_delete"
_BATCH = 1000


def orphan_age() -> timedelta:
    return timedelta(seconds=settings.STORAGE_ORPHAN_AGE)


def keys_in_use() -> set[str]:
    """Every storage key a row names: file fields, renditions, the source being processed,
    staff uploads waiting to be re-encoded, images waiting for their version to go on air,
    direct uploads waiting for their film."""
    keys = {key for _, key in referenced_keys()}
    rows = Film.objects.values_list("processing_source", "images_pending", "images_next")
    for processing, pending, staged in rows:
        keys.add(processing)
        keys.update(pending.values())
        keys.update(staged_images(staged).values())
    # Uploads from the add page, assembled and waiting for their film to be saved.
    keys.update(SourceUpload.objects.exclude(assembled_at=None).values_list("key", flat=True))
    keys.discard("")
    return keys


def _modified(key: str) -> datetime | None:
    """When `key` was stored, or None if it is gone (deleted since it was listed)."""
    try:
        return default_storage.get_modified_time(key)
    except FileNotFoundError:
        return None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return None
        raise


def _owner(key: str, films: dict[str, int]) -> str:
    # Keys are films/<uuid>/...: the film, or one deleted whose own clean-up was lost.
    film_uuid = key.removeprefix(FILMS_PREFIX).partition("/")[0]
    film_id = films.get(film_uuid)
    return f"film {film_id}" if film_id is not None else f"deleted film {film_uuid}"


def _longest_film() -> float:
    """Seconds of the longest film or rendition: an orphan may be the media of a version
    replaced a moment ago, whose HLS URLs live as long as that film plays."""
    lengths = [
        Film.objects.aggregate(longest=Max("duration"))["longest"],
        Rendition.objects.aggregate(longest=Max("seconds"))["longest"],
    ]
    return max((length for length in lengths if length is not None), default=0.0)


def orphans_sweep(*, now: datetime | None = None) -> list[str]:
    """Enqueue the deletion of objects under films/ that no row names and that are older
    than STORAGE_ORPHAN_AGE; report (and log) one line per object."""
    now = now or timezone.now()
    # Listed before the rows are read: a key recorded meanwhile is young, so it is kept.
    stored = objects.list_keys(FILMS_PREFIX)
    in_use = keys_in_use()
    films = {str(film_uuid): pk for film_uuid, pk in Film.objects.values_list("uuid", "pk")}
    cutoff = now - orphan_age()
    grace = old_renditions_grace(_longest_film())
    doomed: list[str] = []
    report: list[str] = []
    for key in stored:
        if key in in_use:
            continue
        modified = _modified(key)
        if modified is None or modified > cutoff:
            continue
        hours = (now - modified).total_seconds() / 3600
        line = (
            f"{_owner(key, films)}: orphan {key} ({hours:.0f} h old, named by no row) "
            f"deleted in {grace.total_seconds():.0f} s"
        )
        logger.info("storage sweep: %s", line)
        report.append(line)
        doomed.append(key)
    # In batches, so a first sweep of a bucket with years of leftovers makes jobs of sane size.
    for start in range(0, len(doomed), _BATCH):
        batch = doomed[start : start + _BATCH]
        get_queue().enqueue_in(
            grace, DELETE_FUNC, batch, retry=RETRY, description=f"delete {len(batch)} orphan(s)"
        )
    return report


def orphans_delete(keys: list[str]) -> list[str]:
    """Delete the orphans a sweep found, but none that a row names again; one line each."""
    in_use = keys_in_use()
    doomed = [key for key in keys if key not in in_use]
    objects.delete(doomed)
    report = [f"deleted orphan {key}" for key in doomed]
    report += [f"kept {key}: a row names it now" for key in keys if key in in_use]
    for line in report:
        logger.info("storage sweep: %s", line)
    return report
