"""describe_rendition: what playlists need, read from FFmpeg's real output and ffprobe."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from content_app.media.errors import MediaError
from content_app.media.ffmpeg import MEDIA_NAME, PLAYLIST_NAME, hls_output_args
from content_app.media.packaging import Segment, describe_rendition, parse_playlist
from tests.content.factories import CLIP_SECONDS, packaged


def _segments(fields: dict[str, object]) -> list[Segment]:
    raw = fields["hls_segments"]
    assert isinstance(raw, list)
    return [Segment(*item) for item in raw]


def _package(out: Path, *encoding: str, seconds: int = 2) -> Path:
    """Write a small rendition into `out` with FFmpeg's HLS packaging and other encoders."""
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=24:duration={seconds}",
            *encoding, *hls_output_args(out),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return out


def test_describes_codecs_and_the_encoded_size_of_a_pipeline_rendition() -> None:
    fields = packaged("360p").fields

    # The pipeline encodes H.264 High at level 4.2 with AAC-LC audio.
    assert fields["hls_codecs"] == "avc1.64002a,mp4a.40.2"
    assert (fields["width"], fields["height"]) == (640, 360)


def test_byte_ranges_are_those_ffmpeg_wrote_and_cover_the_file() -> None:
    files = packaged("120p")
    fields = files.fields
    data = files.media.read_bytes()

    segments = _segments(fields)
    assert fields["hls_init_offset"] == 0
    assert data[4:8] == b"ftyp"
    assert segments[0].offset == fields["hls_init_length"]
    for previous, segment in itertools.pairwise(segments):
        assert segment.offset == previous.offset + previous.length
    # Each segment starts with a fragment's own box, and the last one ends the file.
    assert {data[s.offset + 4 : s.offset + 8] for s in segments} <= {b"sidx", b"moof"}
    assert segments[-1].offset + segments[-1].length == len(data)
    assert sum(s.duration for s in segments) == pytest.approx(CLIP_SECONDS, abs=0.1)
    assert [tuple(s) for s in segments] == [
        tuple(s) for s in parse_playlist(files.playlist.read_text()).segments
    ]


def test_bandwidth_is_the_peak_and_the_average_segment_bit_rate() -> None:
    fields = packaged("360p").fields
    segments = _segments(fields)

    rates = [s.length * 8 / s.duration for s in segments]
    total = sum(s.length for s in segments) * 8 / sum(s.duration for s in segments)
    assert fields["hls_bandwidth"] == pytest.approx(max(rates), abs=1)
    assert fields["hls_average_bandwidth"] == pytest.approx(total, abs=1)


def test_a_rendition_without_audio_lists_only_the_video_codec(tmp_path: Path) -> None:
    out = _package(tmp_path, "-c:v", "libx264", "-profile:v", "main", "-preset", "veryfast")

    codecs = describe_rendition(out)["hls_codecs"]

    assert isinstance(codecs, str)
    assert re.fullmatch(r"avc1\.4d40[0-9a-f]{2}", codecs)


def test_video_that_is_not_h264_is_refused(tmp_path: Path) -> None:
    out = _package(tmp_path, "-c:v", "mpeg4")

    with pytest.raises(MediaError, match=r"expects H\.264"):
        describe_rendition(out)


def test_missing_output_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=MEDIA_NAME):
        describe_rendition(tmp_path)


def test_segments_in_separate_files_are_refused(tmp_path: Path) -> None:
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=24:duration=2",
            "-c:v", "libx264", "-preset", "ultrafast",
            "-f", "hls", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
            str(tmp_path / PLAYLIST_NAME),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    (tmp_path / MEDIA_NAME).write_bytes(b"")

    with pytest.raises(MediaError, match="byte range"):
        describe_rendition(tmp_path)


def test_a_playlist_pointing_past_the_end_of_the_media_is_refused(tmp_path: Path) -> None:
    files = packaged("120p")
    shutil.copy(files.playlist, tmp_path / PLAYLIST_NAME)
    (tmp_path / MEDIA_NAME).write_bytes(files.media.read_bytes()[:-1])

    with pytest.raises(MediaError, match="past the end"):
        describe_rendition(tmp_path)


def test_a_byte_range_without_offset_continues_after_the_previous_one() -> None:
    playlist = "\n".join(
        [
            "#EXTM3U",
            f'#EXT-X-MAP:URI="{MEDIA_NAME}",BYTERANGE="100@0"',
            "#EXTINF:4.0,",
            "#EXT-X-BYTERANGE:500",
            MEDIA_NAME,
            "#EXTINF:2.5,",
            "#EXT-X-BYTERANGE:300",
            MEDIA_NAME,
            "#EXT-X-ENDLIST",
        ]
    )

    packaging = parse_playlist(playlist)

    assert (packaging.init_length, packaging.init_offset) == (100, 0)
    assert packaging.segments == [Segment(4.0, 500, 100), Segment(2.5, 300, 600)]


def test_an_unfinished_playlist_is_refused() -> None:
    playlist = f'#EXTM3U\n#EXT-X-MAP:URI="{MEDIA_NAME}",BYTERANGE="100@0"\n'

    with pytest.raises(MediaError, match="complete"):
        parse_playlist(playlist)
