"""Odd but real sources end in `ready` or a plain `error`, never stuck, within a minute.

Each runs the whole pipeline (probe, renditions, images) on a lavfi-made source.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from content_app.models import Film, ProcessingState

pytestmark = pytest.mark.django_db(transaction=True)

BOUND_SECONDS = 60


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60
    )


def _process(path: Path, upload, run_jobs) -> tuple[Film, float]:
    started = time.monotonic()
    film = Film.objects.create(title="Odd", slug="odd", source=upload(path, name=path.name))
    run_jobs()
    film.refresh_from_db()
    return film, time.monotonic() - started


def _assert_ready(film: Film, elapsed: float) -> None:
    assert film.processing_state == ProcessingState.READY, film.processing_error
    assert elapsed < BOUND_SECONDS
    assert film.thumbnail.name
    assert film.poster.name


X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def test_one_frame_title_card_becomes_ready_with_a_thumbnail(tmp_path, upload, run_jobs):
    card = tmp_path / "card.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=1", "-frames:v", "1", *X264, str(card))
    film, elapsed = _process(card, upload, run_jobs)
    _assert_ready(film, elapsed)


def test_clip_of_a_fifth_of_a_second_becomes_ready(tmp_path, upload, run_jobs):
    clip = tmp_path / "blink.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=0.2",
        "-f", "lavfi", "-i", "sine=d=0.2", *X264, "-c:a", "aac", str(clip),
    )  # fmt: skip
    film, elapsed = _process(clip, upload, run_jobs)
    _assert_ready(film, elapsed)
    assert film.duration == pytest.approx(0.2, abs=0.1)


def test_clip_whose_video_is_shorter_than_its_audio_becomes_ready(tmp_path, upload, run_jobs):
    clip = tmp_path / "short-picture.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=0.5",
        "-f", "lavfi", "-i", "sine=d=3", *X264, "-c:a", "aac", str(clip),
    )  # fmt: skip
    film, elapsed = _process(clip, upload, run_jobs)
    _assert_ready(film, elapsed)


def test_source_whose_first_frames_are_undecodable_ends_ready_or_in_plain_error(
    tmp_path, upload, run_jobs
):
    whole = tmp_path / "whole.ts"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x180:r=24:d=4",
        "-f", "lavfi", "-i", "sine=d=4", *X264, "-g", "24", "-c:a", "aac", str(whole),
    )  # fmt: skip
    data = whole.read_bytes()
    # Cut the first quarter on a TS packet boundary: the stream starts without its first
    # keyframe, so the frames before the next one cannot be decoded.
    cut = (len(data) // 4) // 188 * 188
    damaged = tmp_path / "damaged.ts"
    damaged.write_bytes(data[cut:])
    film, elapsed = _process(damaged, upload, run_jobs)
    assert elapsed < BOUND_SECONDS
    assert film.processing_state in (ProcessingState.READY, ProcessingState.ERROR)
    if film.processing_state == ProcessingState.ERROR:
        assert "/tmp" not in film.processing_error
        assert film.processing_error.endswith(".")


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_source_cut_short_ends_in_error_saying_so_not_ready_without_its_end(
    tmp_path, upload, run_jobs, container
):
    whole = tmp_path / f"whole.{container}"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4",
        "-f", "lavfi", "-i", "sine=d=4", *X264, "-c:a", "aac",
        *(["-movflags", "+faststart"] if container == "mp4" else []), str(whole),
    )  # fmt: skip
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{container}"
    cut.write_bytes(data[: len(data) // 3])  # an interrupted copy: the header says 4 s
    film, elapsed = _process(cut, upload, run_jobs)
    assert elapsed < BOUND_SECONDS
    assert film.processing_state == ProcessingState.ERROR
    assert "cut short" in film.processing_error
    assert "/tmp" not in film.processing_error
