"""Catalogue factories: films with READY renditions packaged exactly as the pipeline does.

Renditions are made once per test session from a tiny lavfi source with the pipeline's own
FFmpeg command and described by the pipeline's own `describe_rendition`, so their rows hold
exactly what the worker records; `upload=True` also puts the files in the test S3.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from content_app.catalogue_cache import catalogue_changed
from content_app.media.ffmpeg import MEDIA_NAME, PLAYLIST_NAME, rendition_args, run_ffmpeg
from content_app.media.ladder import Rung, ladder_for
from content_app.media.packaging import describe_rendition
from content_app.models import Category, Film, Rendition, RenditionStatus
from users_app.models import User

CLIP_SECONDS = 6
_counter = itertools.count(1)


@dataclass(frozen=True)
class Packaged:
    media: Path
    playlist: Path
    fields: dict[str, object]  # what the pipeline records: `describe_rendition(out_dir)`


@lru_cache(maxsize=1)
def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="affea-renditions-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _rung(quality: str) -> Rung:
    return next(r for r in ladder_for(1920, 1080) if r.quality == quality)


@cache
def packaged(quality: str) -> Packaged:
    """Encode one rendition of the test clip as the pipeline does (once per session and quality)."""
    rung = _rung(quality)
    out = _workdir() / quality
    out.mkdir(exist_ok=True)
    # A source at the rung's own size keeps encoding well under a second per rendition.
    source = out / "source.mp4"
    size = f"{rung.width}x{rung.height}"
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={CLIP_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={CLIP_SECONDS}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-shortest", str(source),
        ],
        check=True,
        timeout=120,
    )  # fmt: skip
    run_ffmpeg(rendition_args(source, out, rung, progress=False), timeout=120)
    return Packaged(out / MEDIA_NAME, out / PLAYLIST_NAME, describe_rendition(out))


def make_user(*, staff: bool = False, email: str | None = None, password: str = "pw") -> User:  # noqa: S107
    email = email or f"viewer{next(_counter)}@example.com"
    return User.objects.create_user(email=email, password=password, is_staff=staff)


def make_category(name: str | None = None) -> Category:
    name = name or f"Category {next(_counter)}"
    category, _ = Category.objects.get_or_create(
        name=name, defaults={"slug": name.lower().replace(" ", "-")}
    )
    return category


def make_film(
    *,
    title: str | None = None,
    qualities: tuple[str, ...] = ("360p",),
    status: str = RenditionStatus.READY,
    upload: bool = False,
    published: bool = True,
    taken_down: bool = False,
    thumbnail: bool = False,
    duration: float | None = CLIP_SECONDS,
    **fields: Any,
) -> Film:
    """A film with one rendition per quality; `upload` puts real packaged media in S3."""
    number = next(_counter)
    now = timezone.now()
    film = Film.objects.create(
        title=title or f"Film {number}",
        slug=f"film-{number}",
        duration=duration,
        is_published=published,
        published_at=now if published else None,
        taken_down_at=now if taken_down else None,
        processing_state="ready",
        **fields,
    )
    if thumbnail:
        film.thumbnail.name = default_storage.save(
            f"films/{film.uuid}/images/thumb.jpg", ContentFile(b"\xff\xd8\xff\xe0fakejpeg")
        )
        film.save(update_fields=["thumbnail"])
    ready = status == RenditionStatus.READY
    for quality in qualities:
        media_key = f"films/{film.uuid}/renditions/{quality}/{MEDIA_NAME}"
        playlist_key = f"films/{film.uuid}/renditions/{quality}/{PLAYLIST_NAME}"
        files = packaged(quality)
        if upload:
            with files.media.open("rb") as handle:
                media_key = default_storage.save(media_key, File(handle))
            with files.playlist.open("rb") as handle:
                playlist_key = default_storage.save(playlist_key, File(handle))
        rung = _rung(quality)
        # Only a finished rendition has its packaging recorded, as in the pipeline.
        recorded = files.fields if ready else {"width": rung.width, "height": rung.height}
        Rendition.objects.create(
            film=film,
            quality=quality,
            status=status,
            media_key=media_key if ready else "",
            playlist_key=playlist_key if ready else "",
            size=files.media.stat().st_size if ready else None,
            finished_at=now if ready else None,
            **recorded,
        )
    # As the write services do: lists cached before this film no longer apply.
    catalogue_changed()
    return film
