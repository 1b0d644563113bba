"""ffprobe: what a source file is, or a plain reason why it is not a usable video."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.conf import settings

from content_app.media.errors import MediaError, explain_ffmpeg_failure
from content_app.media.ladder import MAX_DISPLAY_SIDE, MIN_SHORT_SIDE

PROBE_TIMEOUT_SECONDS = 60

# Containers accepted by content (ffprobe's format_name is a comma-separated alias list).
VIDEO_CONTAINERS = frozenset(
    {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpegts", "mpeg",
     "flv", "asf", "ogg", "mxf", "m4v"}
)  # fmt: skip
# The demuxers FFmpeg may open a source (or a rendition) with: the ones behind
# VIDEO_CONTAINERS. Playlists (hls, concat) and image sequences are refused, whatever the
# file is named, so a crafted upload cannot make FFmpeg follow references to other files.
DEMUXERS = "mov,matroska,avi,mpegts,mpeg,flv,asf,ogg,mxf"
# Extensions accepted at upload; the worker still checks the content.
VIDEO_EXTENSIONS = (
    "mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ts", "m2ts", "mts", "wmv",
    "flv", "3gp", "ogv", "mxf",
)  # fmt: skip
HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})
INTERLACED_FIELD_ORDERS = frozenset({"tt", "bb", "tb", "bt"})


@dataclass(frozen=True)
class ProbeResult:
    """A source as the pipeline needs it; `width`x`height` is the display size (SAR, rotation)."""

    duration: float
    width: int
    height: int
    video_codec: str
    has_audio: bool
    container: str
    coded_width: int = 0
    coded_height: int = 0
    sample_aspect_ratio: str = "1:1"
    rotation: int = 0
    field_order: str = ""
    color_primaries: str = ""
    color_transfer: str = ""
    color_space: str = ""
    pix_fmt: str = ""
    bit_depth: int = 8
    avg_frame_rate: float = 0.0
    real_frame_rate: float = 0.0
    audio_channels: int = 0
    audio_layout: str = ""
    size: int = 0

    @property
    def is_hdr(self) -> bool:
        return self.color_transfer in HDR_TRANSFERS

    @property
    def is_interlaced(self) -> bool:
        return self.field_order in INTERLACED_FIELD_ORDERS

    @property
    def is_variable_frame_rate(self) -> bool:
        # r_frame_rate is the stream's base rate; a mean clearly below it means frames
        # come at uneven intervals (phones, screen recordings).
        real, avg = self.real_frame_rate, self.avg_frame_rate
        return bool(real and avg and abs(real - avg) / real > 0.01)

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _quarter_turns(raw: object) -> int:
    """Degrees as a multiple of 90 in [0, 360); 0 for what is not a display rotation
    (a zeroed display matrix reads as -2**63; tags can hold any text)."""
    try:
        degrees = float(str(raw))
    except ValueError:
        return 0
    if not math.isfinite(degrees) or abs(degrees) > 360:
        return 0
    return round(degrees / 90) * 90 % 360


def _rotation(stream: dict[str, Any]) -> int:
    sides = stream.get("side_data_list")
    for side in sides if isinstance(sides, list) else []:
        if isinstance(side, dict) and "rotation" in side:
            return _quarter_turns(side["rotation"])
    tags = stream.get("tags")
    return _quarter_turns(tags.get("rotate")) if isinstance(tags, dict) else 0


def is_cover_art(stream: dict[str, Any]) -> bool:
    """A still picture attached to the file (album art, a poster), not the film's video."""
    disposition = stream.get("disposition")
    return isinstance(disposition, dict) and disposition.get("attached_pic") == 1


def _duration(data: dict[str, Any], video: dict[str, Any]) -> float | None:
    for raw in ((data.get("format") or {}).get("duration"), video.get("duration")):
        try:
            value = float(raw) if raw is not None else None
        except (TypeError, ValueError):
            value = None
        if value is not None and value > 0 and math.isfinite(value):  # "inf": no duration
            return value
    return None


def _ratio(raw: object) -> Fraction | None:
    """Read ffprobe's "16:11" / "30000/1001"; None for unset or nonsense ("0:1", "N/A")."""
    text = str(raw or "").replace(":", "/")
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _int(raw: object, default: int = 0) -> int:
    try:
        return int(str(raw))
    except ValueError:
        return default


def _bit_depth(video: dict[str, Any]) -> int:
    depth = _int(video.get("bits_per_raw_sample"))
    if depth:
        return depth
    pix_fmt = str(video.get("pix_fmt") or "")
    for bits in (16, 14, 12, 10, 9):
        if f"p{bits}" in pix_fmt:
            return bits
    return 8


def _looks_like_iso_media(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(12)
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


def run_ffprobe(path: Path, entries: str, *, what: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffprobe on the local file `path` for `entries`, as JSON; MediaError on a timeout."""
    args = [
        settings.FFPROBE_BINARY,
        "-v", "error",
        "-protocol_whitelist", "file",
        "-format_whitelist", DEMUXERS,
        "-show_entries", entries,
        "-of", "json",
        str(path),
    ]  # fmt: skip
    try:
        return subprocess.run(args, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(
            f"ffprobe could not read {what} within {PROBE_TIMEOUT_SECONDS} s."
        ) from exc


_ENTRIES = (
    "format=duration,format_name"
    ":stream=index,codec_type,codec_name,width,height,duration,sample_aspect_ratio,field_order"
    ",color_primaries,color_transfer,color_space,pix_fmt,bits_per_raw_sample,avg_frame_rate"
    ",r_frame_rate,channels,channel_layout"
    ":stream_disposition=attached_pic:stream_tags=rotate:stream_side_data=rotation"
)


def _read(path: Path) -> dict[str, Any]:
    done = run_ffprobe(path, _ENTRIES, what="the file")
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        if "moov atom not found" in stderr and not _looks_like_iso_media(path):
            # FFmpeg picks the MP4 reader by extension; without an `ftyp` box the file
            # was never an MP4, rather than an MP4 cut short.
            raise MediaError("The file is not a video Affea can read (its content is not video).")
        raise MediaError(explain_ffmpeg_failure(stderr, tool="ffprobe"))
    try:
        data = json.loads(done.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise MediaError("ffprobe gave an unreadable answer about the file.") from exc
    return data if isinstance(data, dict) else {}


def probe(path: Path) -> ProbeResult:
    """Describe the video at `path`; raise MediaError when it cannot become renditions."""
    size = path.stat().st_size
    if size == 0:
        raise MediaError("The uploaded file is empty (0 bytes).")
    data = _read(path)
    container = str((data.get("format") or {}).get("format_name") or "")
    if not VIDEO_CONTAINERS.intersection(container.split(",")):
        raise MediaError(
            f"The file's container ({container or 'unknown'}) is not a video format Affea accepts."
        )
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    videos = [s for s in streams if s.get("codec_type") == "video" and not is_cover_art(s)]
    if not videos:
        raise MediaError("The file has no video stream (audio only or cover art only).")
    video = videos[0]
    coded_w, coded_h = _int(video.get("width")), _int(video.get("height"))
    sar = _ratio(video.get("sample_aspect_ratio")) or Fraction(1)
    # Anamorphic pixels are stretched (never squeezed) to square ones, keeping the height.
    width, height = round(coded_w * sar), coded_h
    if min(coded_w, coded_h, width) < MIN_SHORT_SIDE or max(width, height) > MAX_DISPLAY_SIDE:
        shown = f"{coded_w}x{coded_h}"
        if sar != 1:
            shown += f" ({width}x{height} as displayed)"
        raise MediaError(
            f"The video is {shown} pixels; Affea needs at least {MIN_SHORT_SIDE} pixels on "
            f"the shorter side and at most {MAX_DISPLAY_SIDE} on the longer."
        )
    rotation = _rotation(video)
    if rotation % 180 != 0:
        # FFmpeg rotates on decode, so the ladder works on the displayed orientation.
        width, height = height, width
    duration = _duration(data, video)
    if duration is None:
        raise MediaError("The video's duration cannot be determined; the file may be damaged.")
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    avg, real = _ratio(video.get("avg_frame_rate")), _ratio(video.get("r_frame_rate"))
    return ProbeResult(
        duration=duration,
        width=width,
        height=height,
        video_codec=str(video.get("codec_name") or ""),
        has_audio=bool(audios),
        container=container,
        coded_width=coded_w,
        coded_height=coded_h,
        sample_aspect_ratio=f"{sar.numerator}:{sar.denominator}",
        rotation=rotation,
        field_order=str(video.get("field_order") or ""),
        color_primaries=str(video.get("color_primaries") or ""),
        color_transfer=str(video.get("color_transfer") or ""),
        color_space=str(video.get("color_space") or ""),
        pix_fmt=str(video.get("pix_fmt") or ""),
        bit_depth=_bit_depth(video),
        avg_frame_rate=round(float(avg), 3) if avg else 0.0,
        real_frame_rate=round(float(real), 3) if real else 0.0,
        audio_channels=_int(audios[0].get("channels")) if audios else 0,
        audio_layout=str(audios[0].get("channel_layout") or "") if audios else "",
        size=size,
    )
