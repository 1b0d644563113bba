"""HLS playlists generated per request over a film's ready fMP4 renditions.

Each rendition is one fragmented MP4 with a byte-range playlist written by FFmpeg.
The master playlist lists the ready renditions and points at variant playlists through
a signed token bound to film and viewer; each variant playlist points at the fMP4 file
through a short-lived signed URL with byte ranges, so a private bucket serves hls.js.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.utils import timezone

from affea.errors import DomainError, ServiceUnavailable
from affea.storage import s3_client
from content_app.media.objects import CONTENT_TYPES
from content_app.models import QUALITY_HEIGHTS, Film, Rendition
from content_app.playback import playback_ttl

TOKEN_SALT = "content_app.hls-variant"  # noqa: S105 - a namespace, not a secret
PLAYLIST_CONTENT_TYPE = CONTENT_TYPES[".m3u8"]
_CACHE_SECONDS = 24 * 3600
_BYTERANGE = re.compile(r"^(\d+)(?:@(\d+))?$")
_MAP = re.compile(r'#EXT-X-MAP:.*BYTERANGE="(\d+)@(\d+)"')


class PlaylistError(ServiceUnavailable):
    """A stored rendition is not the byte-range fMP4 HLS packaging playback expects."""

    default_message = "This rendition cannot be streamed right now."


@dataclass(frozen=True)
class Segment:
    duration: float
    length: int
    offset: int


@dataclass(frozen=True)
class RenditionInfo:
    init_length: int
    init_offset: int
    segments: tuple[Segment, ...]
    codecs: str
    width: int
    height: int

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    @property
    def peak_bandwidth(self) -> int:
        return max((int(s.length * 8 / max(s.duration, 0.001)) for s in self.segments), default=1)

    @property
    def average_bandwidth(self) -> int:
        total = sum(s.length for s in self.segments)
        return max(1, int(total * 8 / max(self.duration, 0.001)))


# --- Tokens ---------------------------------------------------------------------


def variant_token(*, film_id: int, user_id: int, expires_at: datetime) -> str:
    return signing.dumps(
        {"f": film_id, "u": user_id, "e": int(expires_at.timestamp())}, salt=TOKEN_SALT
    )


def variant_token_for(film: Film, user_id: int) -> str:
    expires_at = timezone.now() + timedelta(seconds=playback_ttl(film))
    return variant_token(film_id=film.pk, user_id=user_id, expires_at=expires_at)


def variant_token_user(token: str, *, film_id: int) -> int:
    """Return the viewer a token was issued to for this film; 403 if tampered or expired."""
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature as exc:
        raise DomainError("This playlist link is invalid.", status=403) from exc
    if not isinstance(payload, dict) or payload.get("f") != film_id:
        raise DomainError("This playlist link is invalid.", status=403)
    if int(payload.get("e", 0)) < int(timezone.now().timestamp()):
        raise DomainError("This playlist link has expired.", status=403)
    return int(payload["u"])


# --- Reading the stored rendition -------------------------------------------------


def _read_object(key: str, *, start: int | None = None, length: int | None = None) -> bytes:
    if settings.STORAGE_BACKEND == "s3":
        params: dict[str, Any] = {"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": key}
        if start is not None and length is not None:
            params["Range"] = f"bytes={start}-{start + length - 1}"
        body: bytes = s3_client().get_object(**params)["Body"].read()
        return body
    with default_storage.open(key, "rb") as handle:
        if start is not None:
            handle.seek(start)
        data = handle.read(length if length is not None else -1)
        return bytes(data)


def parse_media_playlist(text: str) -> tuple[tuple[int, int], list[Segment]]:
    """Read the init range and the segments of a single-file byte-range playlist."""
    init: tuple[int, int] | None = None
    segments: list[Segment] = []
    duration: float | None = None
    byterange: tuple[int, int] | None = None
    next_offset = 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MAP:"):
            found = _MAP.match(line)
            if not found:
                raise PlaylistError("The rendition playlist has no byte-range init section.")
            init = (int(found.group(1)), int(found.group(2)))
            next_offset = init[0] + init[1]
        elif line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line.startswith("#EXT-X-BYTERANGE:"):
            found_range = _BYTERANGE.match(line[len("#EXT-X-BYTERANGE:") :])
            if not found_range:
                raise PlaylistError("The rendition playlist has a malformed byte range.")
            length = int(found_range.group(1))
            offset = int(found_range.group(2)) if found_range.group(2) else next_offset
            byterange = (length, offset)
        elif line and not line.startswith("#"):
            if duration is None or byterange is None:
                raise PlaylistError("The rendition playlist is not a byte-range playlist.")
            segments.append(Segment(duration, byterange[0], byterange[1]))
            next_offset = byterange[0] + byterange[1]
            duration, byterange = None, None
    if init is None or not segments:
        raise PlaylistError("The rendition playlist has no init section or no segments.")
    return init, segments


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, body start, box end) for the ISO-BMFF boxes between start and end."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[position + 8 : position + 16])
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _find(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, body, box_end in _boxes(data, start, end):
        if found == kind:
            return body, box_end
    return None


def _audio_codec(data: bytes, body: int, end: int) -> str:
    esds = _find(data, body + 28, end, b"esds")
    if esds is None:
        return "mp4a.40.2"
    position, limit = esds[0] + 4, esds[1]
    object_type, audio_type = 0x40, 2
    while position + 2 <= limit:
        tag = data[position]
        position += 1
        size = 0
        for _ in range(4):
            byte = data[position]
            position += 1
            size = (size << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag == 0x03:  # ES descriptor: id, flags, optional fields, then children
            flags = data[position + 2]
            position += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
            if flags & 0x40:
                position += 1 + data[position]
        elif tag == 0x04:  # decoder config: object type, then 12 bytes, then children
            object_type = data[position]
            position += 13
        elif tag == 0x05:  # AudioSpecificConfig: the first 5 bits are the object type
            audio_type = data[position] >> 3
            break
        else:
            position += size
    return f"mp4a.{object_type:02x}.{audio_type}"


def mp4_codecs(init: bytes) -> tuple[str, int, int]:
    """Return the RFC 6381 codecs string and the video size described by an fMP4 init section."""
    codecs: list[str] = []
    width = height = 0
    moov = _find(init, 0, len(init), b"moov")
    if moov is None:
        raise PlaylistError("The rendition has no movie header.")
    for kind, body, end in _boxes(init, *moov):
        if kind != b"trak":
            continue
        tkhd = _find(init, body, end, b"tkhd")
        stbl = None
        mdia = _find(init, body, end, b"mdia")
        if mdia:
            minf = _find(init, *mdia, b"minf")
            stbl = _find(init, *minf, b"stbl") if minf else None
        stsd = _find(init, *stbl, b"stsd") if stbl else None
        if stsd is None:
            continue
        for entry, entry_body, entry_end in _boxes(init, stsd[0] + 8, stsd[1]):
            if entry in (b"avc1", b"avc3"):
                avcc = _find(init, entry_body + 78, entry_end, b"avcC")
                if avcc is None:
                    raise PlaylistError("The rendition's H.264 track has no configuration.")
                profile, compat, level = init[avcc[0] + 1 : avcc[0] + 4]
                codecs.append(f"{entry.decode()}.{profile:02x}{compat:02x}{level:02x}")
                if tkhd is not None:
                    fixed = struct.unpack(">II", init[tkhd[1] - 8 : tkhd[1]])  # 16.16
                    width, height = fixed[0] >> 16, fixed[1] >> 16
            elif entry == b"mp4a":
                codecs.append(_audio_codec(init, entry_body, entry_end))
    if not codecs:
        raise PlaylistError("The rendition has no H.264 or AAC track.")
    return ",".join(codecs), width, height


def _info_cache_key(rendition: Rendition) -> str:
    identity = "|".join(
        (
            rendition.media_key,
            rendition.playlist_key,
            str(rendition.source_version),
            rendition.finished_at.isoformat() if rendition.finished_at else "",
        )
    )
    return "content:hls-info:v1:" + hashlib.sha256(identity.encode()).hexdigest()


def rendition_info(rendition: Rendition) -> RenditionInfo:
    """Parse (once, then from the cache) what playlists need to know about a rendition."""
    key = _info_cache_key(rendition)
    cached = cache.get(key)
    if isinstance(cached, dict):
        cached["segments"] = tuple(Segment(**s) for s in cached["segments"])
        return RenditionInfo(**cached)
    if not rendition.playlist_key:
        raise PlaylistError("The rendition has no playlist.")
    playlist = _read_object(rendition.playlist_key).decode("utf-8", errors="replace")
    (init_length, init_offset), segments = parse_media_playlist(playlist)
    init = _read_object(rendition.media_key, start=init_offset, length=init_length)
    codecs, width, height = mp4_codecs(init)
    info = RenditionInfo(
        init_length=init_length,
        init_offset=init_offset,
        segments=tuple(segments),
        codecs=codecs,
        width=rendition.width or width,
        height=rendition.height or height or QUALITY_HEIGHTS[rendition.quality],
    )
    cache.set(key, asdict(info), _CACHE_SECONDS)
    return info


# --- Writing playlists ------------------------------------------------------------


def master_playlist(*, renditions: list[Rendition], token: str) -> str:
    """List every ready rendition, lowest bandwidth first, with a token-carrying variant URI."""
    entries = sorted(
        ((rendition_info(r), r) for r in renditions), key=lambda pair: pair[0].peak_bandwidth
    )
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for info, rendition in entries:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={info.peak_bandwidth},"
            f"AVERAGE-BANDWIDTH={info.average_bandwidth},"
            f"RESOLUTION={info.width}x{info.height},"
            f'CODECS="{info.codecs}",NAME="{rendition.quality}"'
        )
        # Relative to the master's URL, so proxies and other hosts need no configuration.
        lines.append(f"{rendition.quality}.m3u8?token={token}")
    return "\n".join(lines) + "\n"


def variant_playlist(*, info: RenditionInfo, media_url: str) -> str:
    """Point every byte range of the rendition at one signed URL of its fMP4 file."""
    target = max(int(s.duration + 0.999) for s in info.segments)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{media_url}",BYTERANGE="{info.init_length}@{info.init_offset}"',
    ]
    for segment in info.segments:
        lines.append(f"#EXTINF:{segment.duration:.6f},")
        lines.append(f"#EXT-X-BYTERANGE:{segment.length}@{segment.offset}")
        lines.append(media_url)
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
