"""ffprobe: facts about a good source, a plain reason for a bad one."""

from __future__ import annotations

import subprocess

import pytest

from content_app.media.errors import MediaError, explain_ffmpeg_failure
from content_app.media.probe import _duration, _rotation, probe


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], check=True)


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


def test_motion_jpeg_camera_footage_is_a_video(tmp_path):
    # Older cameras record Motion-JPEG AVIs: that is the film, not cover art.
    camera = tmp_path / "camera.avi"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-f", "lavfi", "-i", "sine",
            "-t", "1", "-c:v", "mjpeg", "-c:a", "pcm_s16le", str(camera))  # fmt: skip
    info = probe(camera)
    assert (info.video_codec, info.width, info.height) == ("mjpeg", 320, 240)


def test_audio_with_attached_cover_art_is_not_a_film(tmp_path):
    cover, song = tmp_path / "cover.png", tmp_path / "song.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", str(cover))
    _ffmpeg("-f", "lavfi", "-i", "sine", "-i", str(cover), "-t", "1", "-map", "0",
            "-map", "1", "-c:a", "aac", "-c:v", "png", "-disposition:v:0", "attached_pic",
            str(song))  # fmt: skip
    with pytest.raises(MediaError, match="no video stream"):
        probe(song)


def test_a_picture_too_narrow_once_its_pixel_aspect_applies_is_refused(tmp_path):
    squeezed = tmp_path / "squeezed.mkv"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240", "-t", "1", "-c:v", "libx264",
            "-aspect", "2:240", str(squeezed))  # fmt: skip
    with pytest.raises(MediaError, match=r"320x240 \(2x240 as displayed\)"):
        probe(squeezed)


@pytest.mark.parametrize(
    ("stream", "degrees"),
    [
        ({"side_data_list": [{"rotation": -90}]}, 270),
        ({"side_data_list": [{"rotation": 89.9}]}, 90),
        ({"tags": {"rotate": "180"}}, 180),
        # A zeroed display matrix, junk tags and odd shapes mean "not rotated".
        ({"side_data_list": [{"rotation": -9223372036854775808}]}, 0),
        ({"side_data_list": [{"rotation": "nan"}]}, 0),
        ({"side_data_list": [{"rotation": None}]}, 0),
        ({"side_data_list": {"rotation": 90}}, 0),
        ({"tags": {"rotate": "abc"}}, 0),
        ({"tags": {"rotate": "inf"}}, 0),
        ({"tags": "rotate=90"}, 0),
    ],
)
def test_rotation_is_a_quarter_turn_or_none(stream, degrees):
    assert _rotation(stream) == degrees


def test_ffmpeg_errors_shown_to_staff_name_no_worker_path():
    said = explain_ffmpeg_failure("[matroska @ 0x55d0c0a1] /tmp/affea-7/source.mkv: Weird data")
    assert "/tmp" not in said
    assert "0x55" not in said
    assert said == "FFmpeg could not process the file: the file: Weird data"
    truncated = explain_ffmpeg_failure("/tmp/affea-7/source.mkv: Input/output error")
    assert truncated == "The file is incomplete or damaged: it ends before its data does."


@pytest.mark.parametrize(
    ("container", "stream", "expected"),
    [
        ("12.5", "12.4", 12.5),
        ("N/A", "3.0", 3.0),  # a stream's own when the container has none
        ("inf", "nan", None),  # no duration rather than an endless one
        ("0", None, None),
    ],
)
def test_duration_is_a_finite_positive_number_or_unknown(container, stream, expected):
    assert _duration({"format": {"duration": container}}, {"duration": stream}) == expected
