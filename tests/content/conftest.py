"""Content fixtures: generated test videos, films saved through the pipeline, in-process workers.

Other test modules reuse these: `make_video(...)` returns the path of a cached lavfi clip,
`run_jobs()` drains the default queue in this process, `upload(...)` wraps a file for a
FileField.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import django_rq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from affea.localdev import free_port
from affea.storage import s3_client_reset

# Chromium fixtures, defined once for every browser-test module.
from tests.content.browser import browser, bucket_cors, page  # noqa: F401


class MakeVideo(Protocol):
    def __call__(
        self,
        *,
        width: int = 320,
        height: int = 180,
        seconds: float = 2.0,
        fps: int = 24,
        audio: bool = True,
        video: bool = True,
        container: str = "mp4",
        pattern: str = "testsrc2",
    ) -> Path: ...


@pytest.fixture(scope="session")
def make_video(tmp_path_factory: pytest.TempPathFactory) -> MakeVideo:
    """Return a factory of lavfi-generated clips, each made once per session and cached."""
    directory = tmp_path_factory.mktemp("videos")

    def factory(
        *,
        width: int = 320,
        height: int = 180,
        seconds: float = 2.0,
        fps: int = 24,
        audio: bool = True,
        video: bool = True,
        container: str = "mp4",
        pattern: str = "testsrc2",
    ) -> Path:
        spec = f"{width}x{height}-{seconds}-{fps}-{audio}-{video}-{pattern}"
        name = hashlib.sha256(spec.encode()).hexdigest()[:12]
        path = directory / f"{name}.{container}"
        if path.exists():
            return path
        args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
        if video:
            # lavfi sources refuse tiny sizes: draw at 16 px at least, then scale down.
            size = f"{max(width, 16)}x{max(height, 16)}"
            colour = "c=navy:" if pattern == "color" else ""
            source = f"{pattern}={colour}s={size}:r={fps}:d={seconds},scale={width}:{height}"
            args += ["-f", "lavfi", "-i", source]
        if audio:
            args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={seconds}"]
        if video:
            # 4:2:0 needs even sizes; odd-sized clips are stored 4:4:4.
            even = width % 2 == 0 and height % 2 == 0
            pix_fmt = "yuv420p" if even else "yuv444p"
            args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", pix_fmt]
        if audio:
            args += ["-c:a", "aac", "-b:a", "64k"]
        args += ["-t", str(seconds), str(path)]
        subprocess.run(args, check=True, timeout=120)
        return path

    return factory


@pytest.fixture
def upload() -> Callable[..., SimpleUploadedFile]:
    """Wrap a local file (or bytes) as an upload with any name."""

    def factory(
        path: Path | None = None, *, name: str = "film.mp4", content: bytes | None = None
    ) -> SimpleUploadedFile:
        data = content if content is not None else (path.read_bytes() if path else b"")
        return SimpleUploadedFile(name, data, content_type="video/mp4")

    return factory


@pytest.fixture
def run_jobs() -> Callable[[], None]:
    """Drain the queues in this process, as a burst worker (`rqworker high default`) would."""

    def drain() -> None:
        worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
        worker.work(burst=True, with_scheduler=False)

    return drain


@pytest.fixture
def storage_unreachable() -> Callable[[], AbstractContextManager[None]]:
    """`with storage_unreachable():` S3 is down (nothing answers at its address) inside."""

    @contextmanager
    def down() -> Iterator[None]:
        endpoint = settings.AWS_S3_ENDPOINT_URL
        settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
        s3_client_reset()
        try:
            yield
        finally:
            settings.AWS_S3_ENDPOINT_URL = endpoint
            s3_client_reset()

    return down
