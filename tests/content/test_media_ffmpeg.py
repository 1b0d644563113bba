"""FFmpeg arguments, the runner and its progress: run on real FFmpeg with tiny clips."""

from __future__ import annotations

import errno
import itertools
import json
import subprocess

import pytest

from content_app.media.errors import MediaError
from content_app.media.ffmpeg import (
    ffmpeg_timeout,
    image_args,
    image_size,
    ladder_args,
    parse_progress_line,
    rendition_args,
    run_ffmpeg,
)
from content_app.media.ladder import ladder_for
from content_app.media.probe import ProbeResult, probe
from content_app.pipeline.failures import transient_kind


def _ffprobe(path, *extra: str) -> dict:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *extra, str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def rendition(make_video, tmp_path_factory):
    """One 360p rendition of a 5 s clip, with the progress fractions FFmpeg reported."""
    source = make_video(width=640, height=360, seconds=5.0)
    out = tmp_path_factory.mktemp("rendition")
    fractions: list[float] = []
    rung = ladder_for(640, 360)[-1]
    run_ffmpeg(
        rendition_args(source, out, rung), timeout=120, duration=5.0, on_progress=fractions.append
    )
    return out, fractions


def test_input_is_restricted_to_local_files(tmp_path):
    args = rendition_args(tmp_path / "in.mp4", tmp_path, ladder_for(640, 360)[0])
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    assert args.index("-protocol_whitelist") < args.index("-i")


def test_rendition_is_h264_high_yuv420p_with_stereo_aac(rendition):
    out, _ = rendition
    streams = _ffprobe(
        out / "media.mp4",
        "-show_entries",
        "stream=codec_name,profile,level,pix_fmt,channels,width,height",
    )["streams"]
    video = next(s for s in streams if s["codec_name"] == "h264")
    audio = next(s for s in streams if s["codec_name"] == "aac")
    assert video["profile"] == "High"
    assert video["level"] <= 42
    assert video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (640, 360)
    assert audio["channels"] == 2


def test_keyframes_fall_every_two_seconds(rendition):
    out, _ = rendition
    frames = _ffprobe(
        out / "media.mp4",
        "-select_streams", "v:0", "-skip_frame", "nokey",
        "-show_entries", "frame=pts_time",
    )["frames"]  # fmt: skip
    times = [float(f["pts_time"]) for f in frames]
    # The first timestamp carries the audio priming offset; the spacing is what counts.
    assert [round(b - a, 2) for a, b in itertools.pairwise(times)] == [2.0, 2.0]


def test_playlist_uses_byte_ranges_into_one_fragmented_mp4(rendition):
    out, _ = rendition
    playlist = (out / "index.m3u8").read_text()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
    assert playlist.count("#EXT-X-BYTERANGE:") == 2  # 4 s segments of a 5 s clip
    assert sorted(p.name for p in out.iterdir()) == ["index.m3u8", "media.mp4"]


def test_progress_rises_to_completion(rendition):
    _, fractions = rendition
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


def test_progress_lines_are_parsed_in_microseconds():
    assert parse_progress_line("out_time_us=2500000", 10.0) == 0.25
    assert parse_progress_line("out_time_ms=5000000", 10.0) == 0.5
    assert parse_progress_line("progress=end", None) == 1.0
    assert parse_progress_line("frame=12", 10.0) is None
    assert parse_progress_line("out_time_us=N/A", 10.0) is None


def test_timeout_scales_with_duration_and_height():
    assert ffmpeg_timeout(600, height=1080) > ffmpeg_timeout(60, height=1080)
    assert ffmpeg_timeout(60, height=1080) > ffmpeg_timeout(60, height=120)
    assert ffmpeg_timeout(None) == 3600


def test_ffmpeg_past_its_timeout_is_stopped_with_a_clear_error(tmp_path):
    args = ["ffmpeg", "-nostdin", "-re", "-f", "lavfi", "-i", "testsrc2=d=30", "-f", "null", "-"]
    with pytest.raises(MediaError, match="did not finish within 1 s"):
        run_ffmpeg(args, timeout=1)


def test_ffmpeg_failure_is_explained_in_plain_words(tmp_path):
    text = tmp_path / "notes.mkv"
    text.write_text("not a video at all\n" * 20)
    args = ["ffmpeg", "-nostdin", "-protocol_whitelist", "file", "-i", str(text), "-f", "null", "-"]
    with pytest.raises(MediaError, match="not a video Affea can read"):
        run_ffmpeg(args, timeout=30)


def test_only_a_run_making_much_smaller_pictures_skips_deblocking_and_averages(tmp_path):
    info = ProbeResult(
        duration=10.0, width=1920, height=1080, video_codec="h264", has_audio=True,
        container="mov,mp4,m4a,3gp,3g2,mj2", coded_width=1920, coded_height=1080,
    )  # fmt: skip
    lowest, *higher = ladder_for(1920, 1080)
    alone = rendition_args(tmp_path / "in.mp4", tmp_path, lowest, info=info)
    assert alone[alone.index("-skip_loop_filter") + 1] == "all"
    assert alone.index("-skip_loop_filter") < alone.index("-i")
    assert "flags=area" in alone[alone.index("-filter_complex") + 1]
    ladder = ladder_args(
        tmp_path / "in.mp4", [(r, tmp_path / r.quality) for r in higher], info=info
    )
    assert "-skip_loop_filter" not in ladder
    graph = ladder[ladder.index("-filter_complex") + 1]
    # 360p is a third of 1080p: averaged; 720p and 1080p: bicubic.
    assert graph.count("flags=area") == 1
    assert graph.count("flags=bicubic") == 2


def test_a_full_disk_is_the_workers_trouble_not_the_sources(tmp_path):
    # /dev/full refuses every write with ENOSPC, as a full disk does.
    args = ["ffmpeg", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=d=1", "-f", "rawvideo",
            "/dev/full"]  # fmt: skip
    with pytest.raises(OSError, match="No space left") as raised:
        run_ffmpeg(args, timeout=30)
    assert raised.value.errno == errno.ENOSPC
    assert not isinstance(raised.value, MediaError)
    assert transient_kind(raised.value) == "worker's disk full"
    # A download into a full disk (Python's own OSError) is the same case.
    assert transient_kind(OSError(errno.ENOSPC, "No space left on device")) == "worker's disk full"
    assert transient_kind(OSError(errno.ENOENT, "No such file or directory")) is None


def test_images_of_a_very_tall_source_are_narrowed_instead_of_failing(make_video, tmp_path):
    assert image_size(640, 16 / 9) == (640, 360)
    assert image_size(640, 9 / 16) == (640, 1138)
    assert image_size(640, 1 / 1000) == (2, 1280)
    # 16x4000 displayed: 640 wide, a thumbnail would be 160000 tall, beyond what JPEG holds.
    source = make_video(width=16, height=4000, seconds=1.0)
    info = probe(source)
    run_ffmpeg(image_args(source, tmp_path, at_seconds=0.0, info=info), timeout=60)
    for name, size in (("thumbnail.jpg", (6, 1280)), ("poster.jpg", (10, 2560))):
        stream = _ffprobe(tmp_path / name, "-show_streams")["streams"][0]
        assert (stream["width"], stream["height"]) == size
