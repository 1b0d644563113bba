"""ffprobe: facts about a good source, a plain reason for a bad one."""

from __future__ import annotations

import pytest

from content_app.media.errors import MediaError
from content_app.media.probe import probe


def test_probe_reports_duration_size_and_audio(make_video):
    info = probe(make_video(width=320, height=180, seconds=2.0))
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.width, info.height) == (320, 180)
    assert info.video_codec == "h264"
    assert info.has_audio


def test_probe_accepts_matroska_by_content(make_video):
    info = probe(make_video(container="mkv"))
    assert "matroska" in info.container


def test_probe_swaps_sides_of_a_rotated_phone_video(make_video, tmp_path):
    import subprocess

    rotated = tmp_path / "phone.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(make_video()), "-c", "copy",
         "-metadata:s:v:0", "rotate=90", str(rotated)],
        check=True,
    )  # fmt: skip
    info = probe(rotated)
    assert (info.width, info.height) == (180, 320)


def test_probe_of_an_empty_file_says_it_is_empty(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(MediaError, match="empty"):
        probe(empty)
