"""HLS playlists generated per request over a film's ready fMP4 renditions.

Each rendition is one fragmented MP4 with a byte-range playlist written by FFmpeg; what
playlists need of it (codecs, bandwidth, size, byte ranges) was stored on the `Rendition`
when the worker made it. The master playlist lists the ready renditions and points at
variant playlists through a signed token bound to film and viewer; each variant playlist
points at the fMP4 file through a short-lived signed URL with byte ranges, so a private
bucket serves hls.js. Nothing here reads storage or a cache.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.core import signing
from django.utils import timezone

from affea.errors import DomainError, NotFound
from content_app.media.objects import CONTENT_TYPES
from content_app.media.packaging import Segment
from content_app.models import Film, Rendition
from content_app.playback import playback_ttl

TOKEN_SALT = "content_app.hls-variant"  # noqa: S105 - a namespace, not a secret
PLAYLIST_CONTENT_TYPE = CONTENT_TYPES[".m3u8"]


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


# --- Writing playlists ------------------------------------------------------------


def has_hls_data(rendition: Rendition) -> bool:
    """Whether the worker recorded this rendition's packaging (rows made since migration 0003)."""
    return bool(
        rendition.hls_codecs
        and rendition.hls_bandwidth
        and rendition.hls_init_length
        and rendition.hls_segments
        and rendition.width
        and rendition.height
    )


def _segments(rendition: Rendition) -> list[Segment]:
    return [Segment(float(d), int(length), int(o)) for d, length, o in rendition.hls_segments]


def master_playlist(*, renditions: list[Rendition], token: str) -> str:
    """List the ready renditions, lowest bandwidth first, with a token-carrying variant URI."""
    # A rendition made before its packaging was stored cannot be described without reading
    # it from storage: it is left out here (video-url still plays it) until reprocessed.
    entries = sorted((r for r in renditions if has_hls_data(r)), key=lambda r: r.hls_bandwidth or 0)
    if not entries:
        raise NotFound("This film has no rendition that can be streamed with HLS.")
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition in entries:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={rendition.hls_bandwidth},"
            f"AVERAGE-BANDWIDTH={rendition.hls_average_bandwidth or rendition.hls_bandwidth},"
            f"RESOLUTION={rendition.width}x{rendition.height},"
            f'CODECS="{rendition.hls_codecs}",NAME="{rendition.quality}"'
        )
        # Relative to the master's URL, so proxies and other hosts need no configuration.
        lines.append(f"{rendition.quality}.m3u8?token={token}")
    return "\n".join(lines) + "\n"


def variant_playlist(*, rendition: Rendition, media_url: str) -> str:
    """Point every byte range of the rendition at one signed URL of its fMP4 file."""
    if not has_hls_data(rendition):
        raise NotFound("This rendition cannot be streamed with HLS.")
    segments = _segments(rendition)
    # RFC 8216 4.3.3.1: no segment may last longer than the target, rounded.
    target = max(math.ceil(s.duration) for s in segments)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{media_url}",'
        f'BYTERANGE="{rendition.hls_init_length}@{rendition.hls_init_offset or 0}"',
    ]
    for segment in segments:
        lines.append(f"#EXTINF:{segment.duration:.6f},")
        lines.append(f"#EXT-X-BYTERANGE:{segment.length}@{segment.offset}")
        lines.append(media_url)
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
