"""The steps of processing a source, each run by one RQ job: probe, one rendition, images.

A step takes ids and the `source_version` it was made for, does nothing if that version
is no longer current, and records its result with an update filtered on that version, so
work for a replaced source changes nothing and removes what it uploaded.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from content_app.catalogue_cache import catalogue_changed
from content_app.media import objects
from content_app.media.errors import MediaError
from content_app.media.ffmpeg import (
    MEDIA_NAME,
    PLAYLIST_NAME,
    ffmpeg_timeout,
    image_args,
    ladder_args,
    run_ffmpeg,
)
from content_app.media.ladder import ladder_for
from content_app.media.packaging import describe_rendition
from content_app.media.probe import VIDEO_EXTENSIONS, ProbeResult, probe
from content_app.models import Film, Rendition, RenditionStatus
from content_app.pipeline.failures import step_failures
from content_app.pipeline.live import film_show_generated_images, staged_images, wants_generated
from content_app.pipeline.queue import (
    LOWEST_RUNG,
    STEP_IMAGES,
    STEP_LADDER,
    STEP_PROBE,
    enqueue_step,
    step_job_status,
)
from content_app.pipeline.state import (
    ProgressReporter,
    current_film,
    film_processing_shown,
    film_update_state,
    generated_image_marker,
    step_done,
)
from content_app.pipeline.storage import film_prefix
from content_app.pipeline.timeline import step_note
from content_app.pipeline.workspaces import local_source, workspace_prefix

logger = logging.getLogger(__name__)


@contextmanager
def _workspace(film: Film, step: str) -> Iterator[tuple[Path, Path]]:
    """Give (a local copy of the source, a private temp dir for outputs removed whatever
    happens)."""
    # Named for this process, so a worker can tell the leftovers of a killed step.
    key = film.source.name or ""
    # Only a video extension reaches FFmpeg: some demuxers (HLS playlists) are chosen
    # by extension and would follow references to other local files.
    suffix = Path(key).suffix.lower().lstrip(".")
    with (
        tempfile.TemporaryDirectory(prefix=workspace_prefix(film.pk, step)) as directory,
        local_source(
            film_id=film.pk,
            key=key,
            name=f"source.{suffix if suffix in VIDEO_EXTENSIONS else 'bin'}",
            download=lambda path: objects.download(key, path),
            workspace=Path(directory),
        ) as source,
    ):
        out = Path(directory) / "out"
        out.mkdir()
        yield source, out


def film_probe(*, film_id: int, version: int) -> None:
    """Probe the source, create the rendition rows of its ladder and enqueue the other steps."""
    with step_failures(film_id=film_id, version=version, step=STEP_PROBE):
        _probe(film_id, version)


def _probe(film_id: int, version: int) -> None:
    film = current_film(film_id, version)
    if film is None:
        return
    film_processing_shown(film_id=film_id, version=version)
    with _workspace(film, STEP_PROBE) as (source, _):
        info = probe(source)
    rungs = ladder_for(info.width, info.height)
    with transaction.atomic():
        updated = Film.objects.filter(pk=film_id, source_version=version).update(
            duration=info.duration,
            source_width=info.width,
            source_height=info.height,
            source_probe=info.as_dict(),
        )
        if not updated:
            return
        for rung in rungs:
            Rendition.objects.get_or_create(
                film_id=film_id,
                quality=rung.quality,
                source_version=version,
                defaults={
                    "width": rung.width,
                    "height": rung.height,
                    "bitrate": rung.maxrate_kbps * 1000,
                },
            )
    # A probe run again (its worker died after this point) finds the steps already in RQ.
    # The lowest rung alone first (a film is playable after seconds), then the others
    # from one decode.
    steps = [rungs[0].quality, *([STEP_LADDER] if len(rungs) > 1 else []), STEP_IMAGES]
    for step in steps:
        queued = step_job_status(film_id, version, step) is not None
        if not queued and not step_done(film_id, version, step):
            enqueue_step(film_id, version, step, info.duration)
    film_update_state(film_id=film_id, version=version)


def rendition_make(*, film_id: int, version: int, quality: str) -> None:
    """Transcode one rung, upload it, record it; do nothing if it exists or is outdated."""
    with step_failures(film_id=film_id, version=version, step=quality):
        _renditions(film_id, version, [quality], step=quality)


def ladder_make(*, film_id: int, version: int) -> None:
    """Make every rung above the lowest from one decode of the source.

    Decoding (and deinterlacing, tone-mapping) once for all of them costs much less CPU
    than once per rung. If FFmpeg fails on the lot, each rung gets its own job, so one
    rung FFmpeg cannot make does not cost the others and the error names that rung.
    """
    with step_failures(film_id=film_id, version=version, step=STEP_LADDER):
        qualities = list(
            Rendition.objects.filter(film_id=film_id, source_version=version)
            .exclude(quality=LOWEST_RUNG)
            .exclude(status=RenditionStatus.READY)
            .order_by("height")
            .values_list("quality", flat=True)
        )
        if len(qualities) <= 1:
            _renditions(film_id, version, qualities, step=STEP_LADDER)
            return
        try:
            _renditions(film_id, version, qualities, step=STEP_LADDER)
        except MediaError as exc:
            logger.warning("film %s v%s: ladder failed, a job per rung: %s", film_id, version, exc)
            _ladder_fall_back(film_id, version, qualities)
            step_note(
                film_id=film_id,
                version=version,
                step=STEP_LADDER,
                note=f"{exc.message} Each rendition is now made on its own.",
            )


def _ladder_fall_back(film_id: int, version: int, qualities: list[str]) -> None:
    film = current_film(film_id, version)
    if film is None:
        return
    undone = Rendition.objects.filter(
        film_id=film_id, source_version=version, quality__in=qualities
    ).exclude(status=RenditionStatus.READY)
    undone.update(status=RenditionStatus.PENDING, error="", started_at=None, finished_at=None)
    for quality in undone.values_list("quality", flat=True):
        enqueue_step(film_id, version, quality, film.duration)


def _renditions(film_id: int, version: int, qualities: list[str], *, step: str) -> None:
    """Transcode the rungs `qualities` in one FFmpeg run, then upload and record each."""
    film = current_film(film_id, version)
    if film is None:
        return
    rows = list(
        Rendition.objects.filter(film_id=film_id, source_version=version, quality__in=qualities)
        .exclude(status=RenditionStatus.READY)
        .order_by("height")
    )
    if not rows:
        return
    # Set by the probe, with the rendition rows of this very ladder.
    assert film.source_width
    assert film.source_height
    ladder = {r.quality: r for r in ladder_for(film.source_width, film.source_height)}
    rungs = [ladder[row.quality] for row in rows]
    running = Rendition.objects.filter(pk__in=[row.pk for row in rows], source_version=version)
    running.update(status=RenditionStatus.PROCESSING, started_at=timezone.now(), error="")
    film_processing_shown(film_id=film_id, version=version)
    token = secrets.token_hex(6)
    try:
        with _workspace(film, step) as (source, workspace):
            outputs = [(rung, workspace / rung.quality) for rung in rungs]
            for _, directory in outputs:
                directory.mkdir()
            # Films probed before the probe was stored are probed again, here.
            info = ProbeResult.from_dict(film.source_probe) if film.source_probe else probe(source)
            run_ffmpeg(
                ladder_args(source, outputs, info=info),
                timeout=sum(ffmpeg_timeout(film.duration, height=r.height) for r in rungs),
                duration=film.duration,
                on_progress=ProgressReporter(film_id, version, [r.quality for r in rungs]),
            )
            for row, (rung, out) in zip(rows, outputs, strict=True):
                _rendition_upload(film, row, out, f"v{version}-{rung.quality}-{token}")
    except MediaError as exc:
        running.exclude(status=RenditionStatus.READY).update(
            status=RenditionStatus.ERROR, error=exc.message, finished_at=timezone.now()
        )
        raise


def _rendition_upload(film: Film, row: Rendition, out: Path, name: str) -> None:
    """Upload one rendition FFmpeg wrote to `out` and record it (each at once: a retry after
    a storage failure redoes only the rungs not recorded yet)."""
    version = row.source_version
    prefix = f"{film_prefix(film)}renditions/{name}/"
    media_key, playlist_key = prefix + MEDIA_NAME, prefix + PLAYLIST_NAME
    described = describe_rendition(out, duration=film.duration)
    size = (out / MEDIA_NAME).stat().st_size
    objects.upload(out / MEDIA_NAME, media_key)
    objects.upload(out / PLAYLIST_NAME, playlist_key)
    _rendition_record(
        rendition_id=row.pk,
        film_id=film.pk,
        version=version,
        fields={
            **described,
            "status": RenditionStatus.READY,
            "media_key": media_key,
            "playlist_key": playlist_key,
            "size": size,
            "bitrate": int(size * 8 / film.duration) if film.duration else None,
            "finished_at": timezone.now(),
        },
    )
    film_update_state(film_id=film.pk, version=version)


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
            catalogue_changed()
    objects.delete(doomed)


def film_make_images(*, film_id: int, version: int) -> None:
    """Generate the thumbnail and poster unless staff uploaded their own."""
    with step_failures(film_id=film_id, version=version, step=STEP_IMAGES):
        _images(film_id, version)


def _grab_frame(source: Path, out: Path, film: Film) -> None:
    """Write thumbnail.jpg and poster.jpg from a frame a little way in, else the first one."""
    info = ProbeResult.from_dict(film.source_probe) if film.source_probe else None
    # A frame a little way in says more about a film than its (often black) start; a
    # clip too short to have a frame there (a title card) gives its first one.
    for at in dict.fromkeys((min((film.duration or 0.0) * 0.1, 30.0), 0.0)):
        try:
            run_ffmpeg(image_args(source, out, at_seconds=at, info=info), timeout=120)
        except MediaError:
            continue
        if (out / "thumbnail.jpg").is_file() and (out / "poster.jpg").is_file():
            return
    raise MediaError("FFmpeg could not decode any frame of the video to make a thumbnail.")


def _images(film_id: int, version: int) -> None:
    film = current_film(film_id, version)
    if film is None:
        return
    want_thumbnail = wants_generated(film, "thumbnail")
    want_poster = wants_generated(film, "poster")
    if not want_thumbnail and not want_poster:
        film_update_state(film_id=film_id, version=version)
        return
    token = secrets.token_hex(6)
    keys = {
        "thumbnail": f"{film_prefix(film)}{generated_image_marker(version)}thumbnail-{token}.jpg",
        "poster": f"{film_prefix(film)}{generated_image_marker(version)}poster-{token}.jpg",
    }
    with _workspace(film, STEP_IMAGES) as (source, out):
        _grab_frame(source, out, film)
        for name, key in keys.items():
            objects.upload(out / f"{name}.jpg", key)
    with transaction.atomic():
        current = (
            Film.objects.select_for_update().filter(pk=film_id, source_version=version).first()
        )
        # Decided again under the lock: an image staff uploaded meanwhile wins.
        wanted = {
            name: key
            for name, key in keys.items()
            if current is not None
            and wants_generated(film, name)
            and wants_generated(current, name)
        }
        doomed = [key for key in keys.values() if key not in wanted.values()]
        if current is not None and current.live_version == version:
            film_show_generated_images(current, wanted)
        elif current is not None:
            # Viewers keep the images of the version on air until this one replaces it.
            doomed += staged_images(current.images_next).values()
            staged = {"version": version, **wanted} if wanted else {}
            Film.objects.filter(pk=film_id, source_version=version).update(images_next=staged)
    objects.delete(doomed)
    film_update_state(film_id=film_id, version=version)
