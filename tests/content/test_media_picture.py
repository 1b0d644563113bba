"""The picture and sound of renditions from the sources cameras, editors and archives make.

Each source is made by lavfi here; each rendition is checked with ffprobe.
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from content_app.media.ffmpeg import image_args, ladder_args, rendition_args, run_ffmpeg
from content_app.media.ladder import ladder_for
from content_app.media.probe import probe

SINE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:d={d}"]


def _make(path: Path, video: str, *args: str, seconds: float = 1.0, audio: str = "") -> Path:
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video]
    if audio:
        cmd += ["-f", "lavfi", "-i", audio]
    cmd += [*args, "-t", str(seconds), str(path)]
    subprocess.run(cmd, check=True, timeout=120)
    return path


def _ffprobe(path: Path) -> dict:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout)


def _render(source: Path, out: Path, *, rung_index: int = -1) -> dict:
    info = probe(source)
    rung = ladder_for(info.width, info.height)[rung_index]
    out.mkdir()
    run_ffmpeg(rendition_args(source, out, rung, info=info, progress=False), timeout=120)
    return _ffprobe(out / "media.mp4")


def _video(data: dict) -> dict:
    return next(s for s in data["streams"] if s["codec_type"] == "video")


def _audio(data: dict) -> dict:
    return next(s for s in data["streams"] if s["codec_type"] == "audio")


def _display_aspect(stream: dict) -> float:
    sar = Fraction(stream.get("sample_aspect_ratio", "1:1").replace(":", "/"))
    return float(stream["width"] * sar / stream["height"])


def _assert_bt709_sdr(stream: dict) -> None:
    assert stream["pix_fmt"] == "yuv420p"
    assert (stream["color_primaries"], stream["color_transfer"], stream["color_space"]) == (
        "bt709",
        "bt709",
        "bt709",
    )
    assert stream["color_range"] == "tv"


X264 = ["-c:v", "libx264", "-preset", "ultrafast"]


def test_anamorphic_pal_source_keeps_its_display_aspect_with_square_pixels(tmp_path):
    source = _make(tmp_path / "dv.mp4", "testsrc2=s=720x576:r=25,setsar=16/11", *X264)
    info = probe(source)
    assert info.sample_aspect_ratio == "16:11"
    assert (info.width, info.height) == (1047, 576)
    video = _video(_render(source, tmp_path / "out"))
    assert video.get("sample_aspect_ratio", "1:1") == "1:1"
    assert _display_aspect(video) == pytest.approx(720 * 16 / 11 / 576, rel=0.01)
    assert video["height"] == 360


def test_pq_hdr_source_is_tone_mapped_to_bt709_and_tagged_so(tmp_path):
    pq = (
        "testsrc2=s=320x180:r=24,format=gbrpf32le,"
        "zscale=tin=bt709:pin=bt709:t=smpte2084:p=bt2020:m=bt2020nc:npl=100,format=yuv420p10le"
    )
    tags = ["-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc"]
    source = _make(tmp_path / "pq.mp4", pq, *X264, *tags)
    info = probe(source)
    assert info.is_hdr
    assert info.bit_depth == 10
    _assert_bt709_sdr(_video(_render(source, tmp_path / "out")))


def test_hlg_hdr_source_is_tone_mapped_to_bt709_and_tagged_so(tmp_path):
    hlg = (
        "testsrc2=s=320x180:r=24,format=gbrpf32le,"
        "zscale=tin=bt709:pin=bt709:t=arib-std-b67:p=bt2020:m=bt2020nc:npl=100,format=yuv420p10le"
    )
    tags = ["-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc"]
    source = _make(tmp_path / "hlg.mp4", hlg, *X264, *tags)
    assert probe(source).color_transfer == "arib-std-b67"
    _assert_bt709_sdr(_video(_render(source, tmp_path / "out")))


def test_untagged_sd_source_is_converted_and_tagged_bt709(tmp_path):
    source = _make(tmp_path / "sd.mp4", "testsrc2=s=640x480:r=25", *X264, "-pix_fmt", "yuv420p")
    _assert_bt709_sdr(_video(_render(source, tmp_path / "out")))


def test_interlaced_source_is_deinterlaced_to_progressive(tmp_path):
    source = _make(
        tmp_path / "tff.mp4",
        "testsrc2=s=720x576:r=50,tinterlace=interleave_top,fieldorder=tff",
        *X264,
        "-flags",
        "+ildct+ilme",
        seconds=2.0,
    )
    assert probe(source).is_interlaced
    out = tmp_path / "out"
    video = _video(_render(source, out))
    assert video.get("field_order", "progressive") == "progressive"
    # idet finds no interlaced frames left (combing) in the rendition.
    idet = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(out / "media.mp4"), "-vf", "idet",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    single = next(line for line in idet.splitlines() if "Single frame detection" in line)
    assert " TFF:     0 " in single or "TFF:0 " in single.replace(" ", "")


def test_variable_frame_rate_source_comes_out_constant_rate_without_drift(tmp_path):
    # Frames at 30 fps for one second, then at 15 fps: a phone's timestamps.
    source = _make(
        tmp_path / "vfr.mp4",
        "testsrc2=s=320x240:r=30:d=2,setpts='if(lt(N,30),N/30,1+(N-30)/15)/TB'",
        *X264, "-fps_mode", "vfr",
        seconds=2.0, audio="sine=frequency=440:sample_rate=48000:d=3",
    )  # fmt: skip
    info = probe(source)
    assert info.is_variable_frame_rate
    data = _render(source, tmp_path / "out")
    video, audio = _video(data), _audio(data)
    assert video["avg_frame_rate"] == video["r_frame_rate"]
    assert float(video["duration"]) == pytest.approx(float(audio["duration"]), abs=0.1)


def test_surround_audio_is_downmixed_to_stereo(tmp_path):
    source = _make(
        tmp_path / "51.mp4", "testsrc2=s=320x180:r=24", *X264, "-ac", "6", "-c:a", "aac",
        audio="sine=frequency=440:sample_rate=48000",
    )  # fmt: skip
    info = probe(source)
    assert (info.audio_channels, info.audio_layout) == (6, "5.1")
    audio = _audio(_render(source, tmp_path / "out"))
    assert (audio["channels"], audio["channel_layout"]) == (2, "stereo")


@pytest.mark.parametrize(("video_s", "audio_s"), [(2.0, 1.0), (1.0, 2.0)])
def test_audio_longer_or_shorter_than_video_keeps_both_durations(tmp_path, video_s, audio_s):
    source = tmp_path / "mixed.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=s=320x180:r=24:d={video_s}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={audio_s}",
         *X264, "-c:a", "aac", str(source)],
        check=True, timeout=60,
    )  # fmt: skip
    data = _render(source, tmp_path / "out")
    assert float(_video(data)["duration"]) == pytest.approx(video_s, abs=0.1)
    assert float(_audio(data)["duration"]) == pytest.approx(audio_s, abs=0.1)
    # Both start together (AAC's priming aside): no offset between picture and sound.
    starts = [float(_video(data)["start_time"]), float(_audio(data)["start_time"])]
    assert starts[0] == pytest.approx(starts[1], abs=0.1)


def test_every_rung_from_one_decode_gets_the_same_right_picture_and_sound(tmp_path):
    """The ladder's one FFmpeg run deinterlaces and tone-maps once, before the split: each
    rung still comes out square-pixel, progressive BT.709 SDR at the display aspect."""
    pq_interlaced_dv = (
        "testsrc2=s=720x576:r=50,tinterlace=interleave_top,fieldorder=tff,setsar=16/11,"
        "format=gbrpf32le,"
        "zscale=tin=bt709:pin=bt709:t=smpte2084:p=bt2020:m=bt2020nc:npl=100,format=yuv420p10le"
    )
    tags = ["-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc"]
    source = _make(
        tmp_path / "pq-dv.mov", pq_interlaced_dv, *X264, *tags, "-flags", "+ildct+ilme",
        "-ac", "6", "-c:a", "aac", seconds=2.0, audio="sine=frequency=440:sample_rate=48000:d=2",
    )  # fmt: skip
    info = probe(source)
    assert (info.is_hdr, info.is_interlaced, info.audio_channels) == (True, True, 6)
    rungs = ladder_for(info.width, info.height)
    assert [r.quality for r in rungs] == ["120p", "360p"]
    outputs = [(rung, tmp_path / rung.quality) for rung in rungs]
    for _, directory in outputs:
        directory.mkdir()
    run_ffmpeg(ladder_args(source, outputs, info=info, progress=False), timeout=120)
    for rung, directory in outputs:
        data = _ffprobe(directory / "media.mp4")
        video, audio = _video(data), _audio(data)
        _assert_bt709_sdr(video)
        assert (video["width"], video["height"]) == (rung.width, rung.height)
        assert video.get("sample_aspect_ratio", "1:1") == "1:1"
        assert _display_aspect(video) == pytest.approx(720 * 16 / 11 / 576, rel=0.01)
        assert video.get("field_order", "progressive") == "progressive"
        assert audio["channels"] == 2
        assert float(video["duration"]) == pytest.approx(2.0, abs=0.1)
        assert float(audio["duration"]) == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize(("pix_fmt", "range_"), [("yuv420p", "tv"), ("yuvj420p", "pc")])
def test_thumbnail_and_poster_keep_black_white_and_colour(tmp_path, pix_fmt, range_):
    # Left: black; middle: a green; right: white; encoded BT.709, as HD is.
    bars = Image.new("RGB", (480, 270))
    bars.paste((32, 192, 64), (160, 0, 320, 270))
    bars.paste((255, 255, 255), (320, 0, 480, 270))
    bars.save(tmp_path / "bars.png")
    source = tmp_path / "bars.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-loop", "1", "-i", tmp_path / "bars.png",
         "-vf", f"scale=out_color_matrix=bt709:out_range={range_},format={pix_fmt}", *X264,
         "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-t", "1",
         source],
        check=True, timeout=60,
    )  # fmt: skip
    info = probe(source)
    run_ffmpeg(image_args(source, tmp_path, at_seconds=0.0, info=info), timeout=60)
    for name in ("thumbnail.jpg", "poster.jpg"):
        with Image.open(tmp_path / name) as image:
            rgb = image.convert("RGB")
        third = rgb.width // 3
        middle = rgb.height // 2
        black, green, white = (rgb.getpixel((third * i + third // 2, middle)) for i in range(3))
        assert isinstance(black, tuple)
        assert isinstance(green, tuple)
        assert isinstance(white, tuple)
        assert max(black) <= 4, (name, black)
        assert min(white) >= 251, (name, white)
        assert all(abs(a - b) <= 8 for a, b in zip(green, (32, 192, 64), strict=True)), green
