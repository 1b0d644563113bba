"""ffprobe: what a source file is, or a plain reason why it is not a usable video."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from content_app.media.errors import MediaError, explain_ffmpeg_failure
from content_app.media.ladder import MIN_SHORT_SIDE

PROBE_TIMEOUT_SECONDS = 60

# Containers accepted by content (ffprobe's format_name is a comma-separated alias list).
VIDEO_CONTAINERS = frozenset(
    {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpegts", "mpeg",
     "flv", "asf", "ogg", "mxf", "m4v"}
)  # fmt: skip
# Extensions accepted at upload; the worker still checks the content.
VIDEO_EXTENSIONS = (
    "mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ts", "m2ts", "mts", "wmv",
    "flv", "3gp", "ogv", "mxf",
)  # fmt: skip


@dataclass(frozen=True)
class ProbeResult:
    duration: float
    width: int
    height: int
    video_codec: str
    has_audio: bool
    container: str


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            return int(float(side["rotation"]))
    rotate = (stream.get("tags") or {}).get("rotate")
    return int(float(rotate)) if rotate else 0


def _duration(data: dict[str, Any], video: dict[str, Any]) -> float | None:
    for raw in ((data.get("format") or {}).get("duration"), video.get("duration")):
        try:
            value = float(raw) if raw is not None else None
        except (TypeError, ValueError):
            value = None
        if value is not None and value > 0:
            return value
    return None


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


def probe(path: Path) -> ProbeResult:
    """Describe the video at `path`; raise MediaError when it cannot become renditions."""
    if path.stat().st_size == 0:
        raise MediaError("The uploaded file is empty (0 bytes).")
    entries = (
        "format=duration,format_name:stream=index,codec_type,codec_name,width,height,duration"
        ":stream_tags=rotate:stream_side_data=rotation"
    )
    done = run_ffprobe(path, entries, what="the file")
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

    container = str((data.get("format") or {}).get("format_name") or "")
    if not VIDEO_CONTAINERS.intersection(container.split(",")):
        raise MediaError(
            f"The file's container ({container or 'unknown'}) is not a video format Affea accepts."
        )
    streams = data.get("streams") or []
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and s.get("codec_name") not in ("mjpeg", "png")
    ]
    if not videos:
        raise MediaError("The file has no video stream (audio only or cover art only).")
    video = videos[0]
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if min(width, height) < MIN_SHORT_SIDE:
        raise MediaError(
            f"The video is {width}x{height} pixels; Affea needs at least {MIN_SHORT_SIDE} "
            "pixels on the shorter side."
        )
    if _rotation(video) % 180 != 0:
        # FFmpeg rotates on decode, so the ladder works on the displayed orientation.
        width, height = height, width
    duration = _duration(data, video)
    if duration is None:
        raise MediaError("The video's duration cannot be determined; the file may be damaged.")
    return ProbeResult(
        duration=duration,
        width=width,
        height=height,
        video_codec=str(video.get("codec_name") or ""),
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
        container=container,
    )
