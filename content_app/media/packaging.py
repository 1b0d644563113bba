"""What HLS playlists need to know about a rendition, read once from FFmpeg's own output.

The worker calls `describe_rendition` after FFmpeg has written the rendition; the values
are stored on the `Rendition`, so serving a playlist only signs and substitutes URLs.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, NamedTuple

from content_app.media.errors import MediaError, explain_ffmpeg_failure
from content_app.media.ffmpeg import MEDIA_NAME, PLAYLIST_NAME
from content_app.media.probe import run_ffprobe

_MAP = re.compile(r'^#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+)@(\d+)"$')
_BYTERANGE = re.compile(r"^#EXT-X-BYTERANGE:(\d+)(?:@(\d+))?$")
_EXTINF = re.compile(r"^#EXTINF:(\d+(?:\.\d+)?),")

# H.264 profile names as ffprobe prints them -> profile_idc and the constraint-flags byte
# libx264 writes for them (RFC 6381 `avc1.PPCCLL`).
_AVC_PROFILES: dict[str, tuple[int, int]] = {
    "Constrained Baseline": (0x42, 0xC0),
    "Baseline": (0x42, 0x00),
    "Main": (0x4D, 0x40),
    "High": (0x64, 0x00),
}
# AAC profile names as ffprobe prints them -> MPEG-4 audio object type (`mp4a.40.N`).
_AAC_OBJECT_TYPES: dict[str, int] = {"LC": 2, "HE-AAC": 5, "HE-AACv2": 29}


class Segment(NamedTuple):
    """One media segment: its duration (s) and its byte range in the media file."""

    duration: float
    length: int
    offset: int


class Packaging(NamedTuple):
    init_length: int
    init_offset: int
    segments: list[Segment]


def parse_playlist(text: str) -> Packaging:
    """Read the init range and segments of FFmpeg's single-file byte-range VOD playlist."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise MediaError("FFmpeg's rendition playlist is not an HLS playlist.")
    if "#EXT-X-ENDLIST" not in lines:
        raise MediaError("FFmpeg's rendition playlist is not a complete VOD playlist.")
    init: tuple[int, int] | None = None
    segments: list[Segment] = []
    duration: float | None = None
    byterange: tuple[int, int] | None = None
    next_offset = 0
    for line in lines:
        if line.startswith("#EXT-X-MAP:"):
            found = _MAP.match(line)
            if found is None or found[1] != MEDIA_NAME:
                raise MediaError(
                    f"The rendition's init section is not a byte range of {MEDIA_NAME}."
                )
            init = (int(found[2]), int(found[3]))
            next_offset = init[0] + init[1]
        elif line.startswith("#EXTINF:"):
            found_inf = _EXTINF.match(line)
            if found_inf is None:
                raise MediaError("FFmpeg's rendition playlist has a malformed segment duration.")
            duration = float(found_inf[1])
        elif line.startswith("#EXT-X-BYTERANGE:"):
            found_range = _BYTERANGE.match(line)
            if found_range is None:
                raise MediaError("FFmpeg's rendition playlist has a malformed byte range.")
            length = int(found_range[1])
            # Without "@offset" a range starts where the previous one ended (RFC 8216 4.3.2.2).
            byterange = (length, int(found_range[2]) if found_range[2] else next_offset)
        elif not line.startswith("#"):
            if line != MEDIA_NAME or duration is None or byterange is None:
                raise MediaError(f"A rendition segment is not a byte range of {MEDIA_NAME}.")
            segments.append(Segment(duration, *byterange))
            next_offset = byterange[0] + byterange[1]
            duration = byterange = None
    if init is None or not segments:
        raise MediaError("FFmpeg's rendition playlist has no init section or no segments.")
    return Packaging(init[0], init[1], segments)


def _probe_rendition(media: Path) -> tuple[list[dict[str, Any]], float | None]:
    """The rendition's streams, and its length in seconds (its longest stream's), if known."""
    entries = (
        "format=duration:stream=codec_type,codec_name,codec_tag_string,profile,level,width,height"
    )
    done = run_ffprobe(media, entries, what="the rendition")
    if done.returncode != 0:
        raise MediaError(
            explain_ffmpeg_failure(done.stderr.decode("utf-8", "replace"), tool="ffprobe")
        )
    try:
        data = json.loads(done.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise MediaError("ffprobe gave an unreadable answer about the rendition.") from exc
    streams = data.get("streams") or []
    try:
        length: float | None = float((data.get("format") or {}).get("duration", "nan"))
    except (TypeError, ValueError):
        length = None
    if length is not None and not math.isfinite(length):
        length = None
    return [s for s in streams if isinstance(s, dict)], length


def _video_codec(stream: dict[str, Any]) -> str:
    tag = str(stream.get("codec_tag_string") or "")
    profile = _AVC_PROFILES.get(str(stream.get("profile") or ""))
    level = stream.get("level")
    if stream.get("codec_name") != "h264" or tag not in ("avc1", "avc3") or profile is None:
        raise MediaError(
            f"The rendition's video is {stream.get('codec_name')} {stream.get('profile')}; "
            "playback expects H.264 (Baseline, Main or High)."
        )
    if not isinstance(level, int) or not 0 < level < 256:
        raise MediaError("The rendition's H.264 level is unknown.")
    return f"{tag}.{profile[0]:02x}{profile[1]:02x}{level:02x}"


def _audio_codec(stream: dict[str, Any]) -> str:
    object_type = _AAC_OBJECT_TYPES.get(str(stream.get("profile") or ""))
    if stream.get("codec_name") != "aac" or object_type is None:
        raise MediaError(
            f"The rendition's audio is {stream.get('codec_name')} {stream.get('profile')}; "
            "playback expects AAC."
        )
    return f"mp4a.40.{object_type}"


def _cut_short(seconds: float, duration: float | None) -> bool:
    if not duration:
        return False
    # Slack for what a whole file may lose: frames before its first keyframe, a longer
    # stream the renditions leave out (a subtitle, a second audio track).
    return seconds < duration - max(1.0, 0.05 * duration)


def describe_rendition(out_dir: Path, *, duration: float | None = None) -> dict[str, object]:
    """Return the `Rendition` field values of the rendition FFmpeg wrote into `out_dir`;
    refuse one clearly shorter than the source's `duration`.

    FFmpeg reads a file cut short (an interrupted copy or export) to where it ends and exits
    with success, so only the length tells the film is missing its end.
    """
    media, playlist = out_dir / MEDIA_NAME, out_dir / PLAYLIST_NAME
    if not media.is_file() or not playlist.is_file():
        raise MediaError(f"FFmpeg did not write {MEDIA_NAME} and {PLAYLIST_NAME}.")
    packaging = parse_playlist(playlist.read_text(encoding="utf-8", errors="replace"))
    end = max(s.offset + s.length for s in packaging.segments)
    if max(end, packaging.init_offset + packaging.init_length) > media.stat().st_size:
        raise MediaError("The rendition playlist points past the end of its media file.")
    streams, length = _probe_rendition(media)
    if length is not None and _cut_short(length, duration):
        raise MediaError(
            f"The source file ends early: only {length:.1f} s of its {duration:.1f} s could be "
            "read, so the file was probably cut short (an interrupted copy or export). Upload "
            "the whole file again."
        )
    videos = [s for s in streams if s.get("codec_type") == "video"]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if len(videos) != 1 or len(audios) > 1:
        raise MediaError("The rendition must hold one video stream and at most one audio stream.")
    video = videos[0]
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if not width or not height:
        raise MediaError("ffprobe does not report the rendition's picture size.")
    codecs = [_video_codec(video), *(_audio_codec(a) for a in audios)]
    durations = [max(s.duration, 0.001) for s in packaging.segments]
    # RFC 8216 4.3.4.2: BANDWIDTH is the peak segment bit rate, AVERAGE-BANDWIDTH the mean.
    peak = max(
        math.ceil(s.length * 8 / d) for s, d in zip(packaging.segments, durations, strict=True)
    )
    average = math.ceil(sum(s.length for s in packaging.segments) * 8 / sum(durations))
    return {
        "width": width,
        "height": height,
        "hls_codecs": ",".join(codecs),
        "hls_bandwidth": peak,
        "hls_average_bandwidth": average,
        "hls_init_length": packaging.init_length,
        "hls_init_offset": packaging.init_offset,
        "hls_segments": [list(s) for s in packaging.segments],
        "seconds": sum(s.duration for s in packaging.segments),
    }
