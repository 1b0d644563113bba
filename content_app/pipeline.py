"""Services of the processing pipeline: source changes, job steps, recording, clean-up.

A film's processing is a set of steps (probe, one per rendition, images), each an RQ
job that takes ids and the `source_version` it was made for. Every step records its
result with an update filtered on that version, so work for a source that has since
been replaced changes nothing and removes what it uploaded.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from redis import Redis
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from content_app.media import objects
from content_app.media.errors import MediaError
from content_app.media.ffmpeg import (
    MEDIA_NAME,
    PLAYLIST_NAME,
    ffmpeg_timeout,
    image_args,
    rendition_args,
    run_ffmpeg,
)
from content_app.media.ladder import Rung, ladder_for
from content_app.media.probe import VIDEO_EXTENSIONS, probe
from content_app.models import (
    QUALITY_HEIGHTS,
    Film,
    ProcessingState,
    Rendition,
    RenditionStatus,
)

logger = logging.getLogger(__name__)

QUEUE = "default"
STEP_PROBE = "probe"
STEP_IMAGES = "images"
# Back-off for transient failures (S3, Redis, database unavailable): 4 tries in all.
RETRY = Retry(max=3, interval=[10, 60, 300])
# After this many restarts of one step by the reconciler, the film goes to `error`.
MAX_RESTARTS = 3
_KEY_TTL = 7 * 24 * 3600


# --- Keys and bookkeeping in Redis -----------------------------------------------------


def _redis() -> Redis:
    return django_rq.get_connection(QUEUE)


def _heartbeat_key(film_id: int, version: int, step: str) -> str:
    return f"affea:pipeline:alive:{film_id}:{version}:{step}"


def _job_key(film_id: int, version: int, step: str) -> str:
    return f"affea:pipeline:job:{film_id}:{version}:{step}"


def _restarts_key(film_id: int, version: int, step: str) -> str:
    return f"affea:pipeline:restarts:{film_id}:{version}:{step}"


@contextmanager
def _heartbeat(film_id: int, version: int, step: str) -> Iterator[None]:
    """Keep a short-lived key alive while the step runs; it lapses when the worker dies."""
    ttl = max(2, settings.PIPELINE_HEARTBEAT_SECONDS)
    key = _heartbeat_key(film_id, version, step)
    connection = _redis()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(ttl / 3):
            try:
                connection.set(key, "1", ex=ttl)
            except Exception:  # a missed beat must not kill the job
                logger.warning("heartbeat for %s not refreshed", key, exc_info=True)

    connection.set(key, "1", ex=ttl)
    thread = threading.Thread(target=beat, name=f"heartbeat-{step}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        connection.delete(key)


def _step_func(step: str) -> str:
    if step == STEP_PROBE:
        return "content_app.tasks.probe_film"
    if step == STEP_IMAGES:
        return "content_app.tasks.make_images"
    return "content_app.tasks.make_rendition"


def _step_timeout(step: str, duration: float | None) -> int:
    height = QUALITY_HEIGHTS.get(step, 360)
    # Room for downloading the source and uploading the result on top of FFmpeg's own limit.
    return ffmpeg_timeout(duration, height=height) + 600


def _enqueue_step(film_id: int, version: int, step: str, duration: float | None) -> None:
    args: tuple[object, ...] = (film_id, version)
    if step not in (STEP_PROBE, STEP_IMAGES):
        args = (film_id, version, step)
    job = django_rq.get_queue(QUEUE).enqueue(
        _step_func(step),
        *args,
        job_id=f"film-{film_id}-v{version}-{step}-{secrets.token_hex(4)}",
        job_timeout=_step_timeout(step, duration),
        retry=RETRY,
        description=f"film {film_id} v{version}: {step}",
    )
    _redis().set(_job_key(film_id, version, step), job.id, ex=_KEY_TTL)


def _step_alive(connection: Redis, film_id: int, version: int, step: str) -> bool:
    """Tell whether a step is running (fresh heartbeat) or waiting in a queue or for a retry."""
    if connection.exists(_heartbeat_key(film_id, version, step)):
        return True
    job_id = connection.get(_job_key(film_id, version, step))
    if not job_id:
        return False
    try:
        job = Job.fetch(
            job_id.decode() if isinstance(job_id, bytes) else str(job_id), connection=connection
        )
    except NoSuchJobError:
        return False
    return job.get_status() in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def enqueue_cleanup(
    keys: Sequence[str | None] | None = None, prefixes: Sequence[str] | None = None
) -> None:
    """Delete objects after the current transaction commits (never before: it may roll back)."""
    doomed = [key for key in keys or [] if key]
    under = [prefix for prefix in prefixes or [] if prefix]
    if not doomed and not under:
        return
    transaction.on_commit(
        lambda: django_rq.get_queue(QUEUE).enqueue(
            "content_app.tasks.delete_objects", doomed, under, retry=RETRY
        )
    )


# --- Starting and restarting processing ------------------------------------------------


def film_prefix(film: Film) -> str:
    return f"films/{film.uuid}/"


def _rendition_keys(renditions: list[Rendition]) -> list[str]:
    return [key for r in renditions for key in (r.media_key, r.playlist_key) if key]


@transaction.atomic
def film_processing_restart(*, film: Film, stale_keys: Sequence[str | None] = ()) -> int:
    """Start processing `film`'s current source afresh; return the new source version.

    Renditions and generated images of earlier versions are dropped and their objects,
    with `stale_keys`, deleted after commit; the probe is enqueued after commit.
    """
    locked = Film.objects.select_for_update().get(pk=film.pk)
    version = locked.source_version + 1
    old_renditions = list(locked.renditions.all())
    doomed = [key or "" for key in stale_keys] + _rendition_keys(old_renditions)
    fields: dict[str, object] = {
        "source_version": version,
        "processing_progress": 0,
        "processing_error": "",
        "processing_started_at": timezone.now(),
        "duration": None,
        "source_width": None,
        "source_height": None,
    }
    if locked.thumbnail_generated:
        doomed.append(locked.thumbnail.name or "")
        fields.update(thumbnail="", thumbnail_generated=False)
    if locked.poster_generated:
        doomed.append(locked.poster.name or "")
        fields.update(poster="", poster_generated=False)
    has_source = bool(film.source.name)
    if has_source:
        fields["processing_state"] = ProcessingState.PENDING
    else:
        fields.update(
            processing_state=ProcessingState.ERROR,
            processing_error="The film has no source file; upload one.",
        )
    Rendition.objects.filter(film=locked).delete()
    Film.objects.filter(pk=film.pk).update(**fields)
    # The caller's instance reflects the new state, so a later save() does not undo it.
    for name, value in fields.items():
        setattr(film, name, value)
    enqueue_cleanup([key for key in doomed if key != film.source.name])
    if has_source:
        film_id = film.pk
        transaction.on_commit(lambda: _enqueue_step(film_id, version, STEP_PROBE, None))
        transaction.on_commit(ensure_reconciler_scheduled)
    return version


# --- Step: probe ---------------------------------------------------------------------


@dataclass
class _Workspace:
    film: Film
    version: int
    directory: Path

    @property
    def source(self) -> Path:
        # Only a video extension reaches FFmpeg: some demuxers (HLS playlists) are chosen
        # by extension and would follow references to other local files.
        suffix = Path(self.film.source.name or "").suffix.lower().lstrip(".")
        return self.directory / f"source.{suffix if suffix in VIDEO_EXTENSIONS else 'bin'}"


@contextmanager
def _workspace(film: Film, version: int, step: str) -> Iterator[_Workspace]:
    """Download the source into a private temp dir that is removed whatever happens."""
    with (
        _heartbeat(film.pk, version, step),
        tempfile.TemporaryDirectory(prefix=f"affea-{film.pk}-{step}-") as directory,
    ):
        space = _Workspace(film=film, version=version, directory=Path(directory))
        objects.download(film.source.name or "", space.source)
        yield space


def _current_film(film_id: int, version: int) -> Film | None:
    """Return the film if `version` is still its source and its processing still runs."""
    film = Film.objects.filter(pk=film_id, source_version=version).first()
    if film is None or not film.source.name or film.processing_state == ProcessingState.ERROR:
        return None
    return film


def film_fail(*, film_id: int, version: int, reason: str) -> None:
    """Put the film in `error` with `reason`, unless its source has moved on."""
    Film.objects.filter(pk=film_id, source_version=version).update(
        processing_state=ProcessingState.ERROR, processing_error=reason[:2000]
    )


def film_probe(*, film_id: int, version: int) -> None:
    """Probe the source, create the rendition rows of its ladder and enqueue the other steps."""
    film = _current_film(film_id, version)
    if film is None:
        return
    Film.objects.filter(pk=film_id, source_version=version).update(
        processing_state=ProcessingState.PROCESSING
    )
    try:
        with _workspace(film, version, STEP_PROBE) as space:
            info = probe(space.source)
    except MediaError as exc:
        film_fail(film_id=film_id, version=version, reason=exc.message)
        return
    rungs = ladder_for(info.width, info.height)
    with transaction.atomic():
        updated = Film.objects.filter(pk=film_id, source_version=version).update(
            duration=info.duration, source_width=info.width, source_height=info.height
        )
        if not updated:
            return
        for rung in rungs:
            Rendition.objects.get_or_create(
                film_id=film_id,
                quality=rung.quality,
                defaults={
                    "source_version": version,
                    "width": rung.width,
                    "height": rung.height,
                    "bitrate": rung.maxrate_kbps * 1000,
                },
            )
    connection = _redis()
    for step in [*(rung.quality for rung in rungs), STEP_IMAGES]:
        if not _step_done(film_id, version, step) and not _step_alive(
            connection, film_id, version, step
        ):
            _enqueue_step(film_id, version, step, info.duration)
    film_update_state(film_id=film_id, version=version)


def _step_done(film_id: int, version: int, step: str) -> bool:
    if step == STEP_PROBE:
        return Film.objects.filter(
            pk=film_id, source_version=version, duration__isnull=False
        ).exists()
    if step == STEP_IMAGES:
        current = Film.objects.filter(pk=film_id, source_version=version)
        return current.exclude(thumbnail="").exclude(poster="").exists()
    return Rendition.objects.filter(
        film_id=film_id, quality=step, source_version=version, status=RenditionStatus.READY
    ).exists()


# --- Step: one rendition ---------------------------------------------------------------


def _weight(quality: str) -> float:
    # Encoding cost grows with the picture area; 1 stands for decoding the source.
    return 1 + (QUALITY_HEIGHTS[quality] / 360) ** 2


_IMAGES_WEIGHT = 0.5


class _ProgressReporter:
    """Turn one step's fraction into the film's percentage, written at most once a second."""

    def __init__(self, film_id: int, version: int, quality: str) -> None:
        self.film_id, self.version = film_id, version
        rows = list(
            Rendition.objects.filter(film_id=film_id, source_version=version).values_list(
                "quality", "status"
            )
        )
        self.total = sum(_weight(q) for q, _ in rows) + _IMAGES_WEIGHT
        self.done = sum(_weight(q) for q, s in rows if s == RenditionStatus.READY and q != quality)
        self.own = _weight(quality)
        self.last_write = 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last_write < 1.0:
            return
        self.last_write = now
        percent = int(99 * (self.done + self.own * fraction) / self.total)
        # Only ever forward: steps on parallel workers report their own views of it.
        Film.objects.filter(
            pk=self.film_id, source_version=self.version, processing_progress__lt=percent
        ).update(processing_progress=percent)


def rendition_make(*, film_id: int, version: int, quality: str) -> None:
    """Transcode one rung, upload it, record it; do nothing if it exists or is outdated."""
    film = _current_film(film_id, version)
    if film is None:
        return
    rendition = Rendition.objects.filter(
        film_id=film_id, quality=quality, source_version=version
    ).first()
    if rendition is None or rendition.status == RenditionStatus.READY:
        return
    # Set by the probe from the ladder.
    assert rendition.width
    assert rendition.height
    rung = Rung(
        quality=quality,
        width=rendition.width,
        height=rendition.height,
        maxrate_kbps=(rendition.bitrate or 0) // 1000,
        audio_kbps=64 if quality == "120p" else 128,
    )
    Rendition.objects.filter(pk=rendition.pk, source_version=version).update(
        status=RenditionStatus.PROCESSING, started_at=timezone.now(), error=""
    )
    Film.objects.filter(pk=film_id, source_version=version).update(
        processing_state=ProcessingState.PROCESSING
    )
    token = secrets.token_hex(6)
    prefix = f"{film_prefix(film)}renditions/v{version}-{quality}-{token}/"
    media_key, playlist_key = prefix + MEDIA_NAME, prefix + PLAYLIST_NAME
    try:
        with _workspace(film, version, quality) as space:
            out = space.directory / "out"
            out.mkdir()
            run_ffmpeg(
                rendition_args(space.source, out, rung),
                timeout=ffmpeg_timeout(film.duration, height=rung.height),
                duration=film.duration,
                on_progress=_ProgressReporter(film_id, version, quality),
            )
            size = (out / MEDIA_NAME).stat().st_size
            objects.upload(out / MEDIA_NAME, media_key)
            objects.upload(out / PLAYLIST_NAME, playlist_key)
    except MediaError as exc:
        Rendition.objects.filter(pk=rendition.pk, source_version=version).update(
            status=RenditionStatus.ERROR, error=exc.message, finished_at=timezone.now()
        )
        film_fail(film_id=film_id, version=version, reason=f"{quality}: {exc.message}")
        return
    bitrate = int(size * 8 / film.duration) if film.duration else None
    _rendition_record(
        rendition_id=rendition.pk,
        film_id=film_id,
        version=version,
        fields={
            "status": RenditionStatus.READY,
            "media_key": media_key,
            "playlist_key": playlist_key,
            "size": size,
            "bitrate": bitrate,
            "finished_at": timezone.now(),
        },
    )
    film_update_state(film_id=film_id, version=version)


def _rendition_record(
    *, rendition_id: int, film_id: int, version: int, fields: dict[str, object]
) -> None:
    """Store a finished rendition's keys; delete what the row pointed to before, or, if the
    film or its source is gone, what was just uploaded."""
    new_keys = [str(fields["media_key"]), str(fields["playlist_key"])]
    with transaction.atomic():
        film_ok = Film.objects.select_for_update().filter(pk=film_id, source_version=version)
        row = (
            Rendition.objects.select_for_update()
            .filter(pk=rendition_id, source_version=version)
            .first()
            if film_ok.exists()
            else None
        )
        if row is None:
            doomed = new_keys
        else:
            doomed = [k for k in (row.media_key, row.playlist_key) if k and k not in new_keys]
            Rendition.objects.filter(pk=rendition_id, source_version=version).update(**fields)
    objects.delete(doomed)


# --- Step: thumbnail and poster --------------------------------------------------------


def film_make_images(*, film_id: int, version: int) -> None:
    """Generate the thumbnail and poster unless staff uploaded their own."""
    film = _current_film(film_id, version)
    if film is None:
        return
    want_thumbnail = not film.thumbnail.name or film.thumbnail_generated
    want_poster = not film.poster.name or film.poster_generated
    if not want_thumbnail and not want_poster:
        film_update_state(film_id=film_id, version=version)
        return
    duration = film.duration or 0.0
    token = secrets.token_hex(6)
    keys = {
        "thumbnail": f"{film_prefix(film)}images/v{version}-thumbnail-{token}.jpg",
        "poster": f"{film_prefix(film)}images/v{version}-poster-{token}.jpg",
    }
    try:
        with _workspace(film, version, STEP_IMAGES) as space:
            out = space.directory / "out"
            out.mkdir()
            # A frame a little way in says more about a film than its (often black) start.
            at = min(duration * 0.1, 30.0)
            try:
                run_ffmpeg(image_args(space.source, out, at_seconds=at), timeout=120)
            except MediaError:
                run_ffmpeg(image_args(space.source, out, at_seconds=0), timeout=120)
            for name, key in keys.items():
                objects.upload(out / f"{name}.jpg", key)
    except MediaError as exc:
        film_fail(film_id=film_id, version=version, reason=f"Images: {exc.message}")
        return
    fields: dict[str, object] = {}
    if want_thumbnail:
        fields.update(thumbnail=keys["thumbnail"], thumbnail_generated=True)
    if want_poster:
        fields.update(poster=keys["poster"], poster_generated=True)
    with transaction.atomic():
        current = (
            Film.objects.select_for_update().filter(pk=film_id, source_version=version).first()
        )
        if current is None:
            doomed = list(keys.values())
        else:
            doomed = [k for k in keys.values() if k not in fields.values()]
            if want_thumbnail and current.thumbnail_generated:
                doomed.append(current.thumbnail.name or "")
            if want_poster and current.poster_generated:
                doomed.append(current.poster.name or "")
            Film.objects.filter(pk=film_id, source_version=version).update(**fields)
    objects.delete(doomed)
    film_update_state(film_id=film_id, version=version)


def film_images_overridden(*, film: Film, previous: dict[str, str]) -> None:
    """Staff replaced or cleared images: keep the pipeline off them, drop the old objects."""
    flags = {f"{name}_generated": False for name in previous}
    Film.objects.filter(pk=film.pk).update(**flags)
    for name, value in flags.items():
        setattr(film, name, value)
    current = {name: getattr(film, name).name for name in previous}
    enqueue_cleanup([old for name, old in previous.items() if old and old != current[name]])


# --- State -----------------------------------------------------------------------------


def film_update_state(*, film_id: int, version: int) -> None:
    """Mark the film `ready` once every expected rendition and the thumbnail exist."""
    renditions = Rendition.objects.filter(film_id=film_id, source_version=version)
    statuses = list(renditions.values_list("quality", "status"))
    if not statuses:
        return
    if any(status != RenditionStatus.READY for _, status in statuses):
        done = sum(_weight(q) for q, status in statuses if status == RenditionStatus.READY)
        total = sum(_weight(q) for q, _ in statuses) + _IMAGES_WEIGHT
        percent = int(99 * done / total)
        Film.objects.filter(
            pk=film_id, source_version=version, processing_progress__lt=percent
        ).update(processing_progress=percent)
        return
    Film.objects.filter(pk=film_id, source_version=version, duration__isnull=False).exclude(
        thumbnail=""
    ).exclude(processing_state=ProcessingState.ERROR).update(
        processing_state=ProcessingState.READY, processing_progress=100, processing_error=""
    )


# --- Reconciler ------------------------------------------------------------------------


def _pending_steps(film: Film) -> list[str]:
    version = film.source_version
    if film.duration is None:
        return [STEP_PROBE]
    steps = list(
        Rendition.objects.filter(film=film, source_version=version)
        .exclude(status=RenditionStatus.READY)
        .order_by("height")
        .values_list("quality", flat=True)
    )
    if not film.thumbnail.name or not film.poster.name:
        steps.append(STEP_IMAGES)
    return steps


def films_reconcile() -> list[str]:
    """Re-enqueue steps whose job died with its worker; return what was done, one line each."""
    connection = _redis()
    grace = timedelta(seconds=settings.PIPELINE_HEARTBEAT_SECONDS)
    settled_before = timezone.now() - grace
    report: list[str] = []
    candidates = (
        Film.objects.filter(
            processing_state__in=(ProcessingState.PENDING, ProcessingState.PROCESSING)
        )
        .exclude(source="")
        .filter(Q(processing_started_at__isnull=True) | Q(processing_started_at__lt=settled_before))
    )
    for film in candidates:
        version = film.source_version
        steps = _pending_steps(film)
        if not steps:
            film_update_state(film_id=film.pk, version=version)
            report.append(f"film {film.pk}: all steps done, state settled")
            continue
        for step in steps:
            if _step_alive(connection, film.pk, version, step):
                continue
            restarts = int(connection.incr(_restarts_key(film.pk, version, step)))
            connection.expire(_restarts_key(film.pk, version, step), _KEY_TTL)
            if restarts > MAX_RESTARTS:
                film_fail(
                    film_id=film.pk,
                    version=version,
                    reason=f"{step}: processing stopped {MAX_RESTARTS} times without finishing "
                    "(worker crashes or unavailable services); use Reprocess to try again.",
                )
                report.append(f"film {film.pk}: {step} gave up after {MAX_RESTARTS} restarts")
                break
            Rendition.objects.filter(
                film=film, quality=step, source_version=version, status=RenditionStatus.PROCESSING
            ).update(status=RenditionStatus.PENDING)
            _enqueue_step(film.pk, version, step, film.duration)
            report.append(f"film {film.pk}: re-enqueued {step} (v{version})")
    return report


RECONCILER_LOCK = "affea:pipeline:reconciler-scheduled"


def ensure_reconciler_scheduled() -> None:
    """Keep one self-renewing reconciler job scheduled in the worker's scheduler.

    The lock key lives a little less than one interval; whoever takes it schedules the
    next run, so concurrent callers cannot multiply the chain.
    """
    interval = max(5, settings.PIPELINE_RECONCILE_INTERVAL)
    if _redis().set(RECONCILER_LOCK, "1", nx=True, px=interval * 1000 - 1000):
        django_rq.get_queue(QUEUE).enqueue_in(
            timedelta(seconds=interval),
            "content_app.tasks.reconcile",
            description="reconcile film processing",
        )


def storage_delete(*, keys: list[str], prefixes: list[str]) -> None:
    """Delete objects by key and everything under each prefix."""
    objects.delete([*keys, *(key for prefix in prefixes for key in objects.list_keys(prefix))])
