"""Catalogue factories: films with READY renditions packaged exactly as the pipeline does.

Renditions are made once per test session with FFmpeg from a tiny lavfi source and
packaged as one fragmented MP4 with a byte-range HLS playlist (`-hls_flags single_file`),
then uploaded to the test S3 under a key of the film, so playback runs on real objects.
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

from content_app.models import Category, Film, Rendition, RenditionStatus
from users_app.models import User

CLIP_SECONDS = 6
# Small frames keep encoding well under a second per rendition.
SIZES = {"120p": (212, 120), "360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080)}
_counter = itertools.count(1)


@dataclass(frozen=True)
class Packaged:
    media: Path
    playlist: Path
    width: int
    height: int


@lru_cache(maxsize=1)
def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="affea-renditions-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@cache
def packaged(quality: str) -> Packaged:
    """Encode and package one rendition of the test clip (once per session and quality)."""
    width, height = SIZES[quality]
    out = _workdir() / quality
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=24:duration={CLIP_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={CLIP_SECONDS}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-g", "48", "-keyint_min", "48", "-sc_threshold", "0",
            "-c:a", "aac", "-b:a", "64k", "-shortest",
            "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod",
            "-hls_segment_type", "fmp4", "-hls_flags", "single_file",
            "-hls_segment_filename", str(out / f"{quality}.mp4"),
            str(out / f"{quality}.m3u8"),
        ],
        check=True,
        timeout=120,
    )  # fmt: skip
    return Packaged(out / f"{quality}.mp4", out / f"{quality}.m3u8", width, height)


def make_user(*, staff: bool = False, email: str | None = None, password: str = "pw") -> User:  # noqa: S107
    email = email or f"viewer{next(_counter)}@example.com"
    return User.objects.create_user(email=email, password=password, is_staff=staff)


def make_category(name: str | None = None) -> Category:
    name = name or f"Category {next(_counter)}"
    return Category.objects.create(name=name, slug=name.lower().replace(" ", "-"))


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
    for quality in qualities:
        media_key = f"films/{film.uuid}/renditions/{quality}.mp4"
        playlist_key = f"films/{film.uuid}/renditions/{quality}.m3u8"
        width, height = SIZES[quality]
        if upload:
            files = packaged(quality)
            with files.media.open("rb") as handle:
                media_key = default_storage.save(media_key, File(handle))
            with files.playlist.open("rb") as handle:
                playlist_key = default_storage.save(playlist_key, File(handle))
        Rendition.objects.create(
            film=film,
            quality=quality,
            status=status,
            width=width,
            height=height,
            media_key=media_key if status == RenditionStatus.READY else "",
            playlist_key=playlist_key if status == RenditionStatus.READY else "",
            finished_at=now if status == RenditionStatus.READY else None,
        )
    return film
