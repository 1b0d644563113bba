"""HLS playlists generated per request over a film's ready fMP4 renditions.

Each rendition is one fragmented MP4 with a byte-range playlist written by FFmpeg; what
playlists need of it (codecs, bandwidth, size, byte ranges) was stored on the `Rendition`
when the worker made it. The master playlist lists the ready renditions and points at
variant playlists through an encrypted token bound to film, viewer and sign-in; each
variant playlist points at the fMP4 file through a short-lived signed URL with byte
ranges, so a private bucket serves hls.js. Nothing here reads storage or a cache.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework_simplejwt.tokens import Token

from affea.errors import DomainError, NotFound
from content_app.media.objects import CONTENT_TYPES
from content_app.media.packaging import Segment
from content_app.models import Film, Rendition
from content_app.playback import playback_ttl
from users_app.jwt_tokens import FAMILY_CLAIM, login_family_is_live, password_claim
from users_app.models import User

TOKEN_SALT = "content_app.hls-variant"  # noqa: S105 - a namespace, not a secret
PLAYLIST_CONTENT_TYPE = CONTENT_TYPES[".m3u8"]


@dataclass(frozen=True)
class SubtitleMedia:
    language: str
    label: str
    uri: str  # the subtitle media playlist, token included


# --- Tokens ---------------------------------------------------------------------


def _fernet() -> MultiFernet:
    secrets = (settings.SECRET_KEY, *map(str, settings.SECRET_KEY_FALLBACKS))
    keys = [
        base64.urlsafe_b64encode(
            salted_hmac(TOKEN_SALT, "fernet", secret=secret, algorithm="sha256").digest()
        )
        for secret in secrets
    ]
    return MultiFernet([Fernet(key) for key in keys])


def variant_token(
    *,
    film_id: int,
    user: User | AnonymousUser,
    expires_at: datetime,
    binding: dict[str, str] | None = None,
    version: int | None = None,
) -> str:
    payload = {
        "f": film_id,
        # The version on air when the master was given out: its variants keep playing
        # that version while it is kept after a switch (content_app.pipeline.live).
        "v": version,
        "u": user.pk or 0,  # 0: an anonymous viewer of a public-playback film
        "p": password_claim(user) if isinstance(user, User) else "",
        "b": binding or {},
        "e": int(expires_at.timestamp()),
    }
    # Encrypted, not only signed: the link shows neither the viewer nor their sign-in.
    return _fernet().encrypt(json.dumps(payload).encode()).decode()


def variant_binding(*, auth: object, session_key: str | None) -> dict[str, str]:
    """What a token lives and dies with: the JWT sign-in (its family) or the session."""
    family = auth.get(FAMILY_CLAIM) if isinstance(auth, Token) else None
    if isinstance(family, str):
        return {"fam": family}
    if session_key:
        return {"s": session_key}
    return {}  # anonymous, or a credential with neither: the password alone


def variant_token_for(
    film: Film, user: User | AnonymousUser, *, binding: dict[str, str] | None = None
) -> str:
    expires_at = timezone.now() + timedelta(seconds=playback_ttl(film))
    return variant_token(
        film_id=film.pk,
        user=user,
        expires_at=expires_at,
        binding=binding,
        version=film.live_version,
    )


def _session_is_live(session_key: str, user: User) -> bool:
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return str(session.get(SESSION_KEY, "")) == str(user.pk) and constant_time_compare(
        str(session.get(HASH_SESSION_KEY, "")), user.get_session_auth_hash()
    )


def _binding_is_live(binding: object, user: User) -> bool:
    if not isinstance(binding, dict):
        return False
    if "fam" in binding:
        return login_family_is_live(str(binding["fam"]))
    if "s" in binding:
        return _session_is_live(str(binding["s"]), user)
    return True


def _payload(token: str) -> dict[str, object]:
    try:
        payload = json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise DomainError("This playlist link is invalid.", status=403) from exc
    if not isinstance(payload, dict):
        raise DomainError("This playlist link is invalid.", status=403)
    return payload


def variant_token_user(token: str, *, film_id: int) -> int:
    """The viewer (0: anonymous) a live token was issued to for this film; else 403."""
    return variant_token_grant(token, film_id=film_id)[0]


def variant_token_grant(token: str, *, film_id: int) -> tuple[int, int | None]:
    """Return (the viewer, 0 for anonymous; the source version its master was made of, None
    for a token from before versions were named, which plays the version on air) of a live
    token issued for this film; else 403.

    A token dies with the playback window, with the viewer's password (so with a
    password change or "log out everywhere"), and with the sign-in that fetched the
    master: logging out of that session or JWT login ends it, and nobody else's
    credentials revive it.
    """
    payload = _payload(token)
    if payload.get("f") != film_id:
        raise DomainError("This playlist link is invalid.", status=403)
    if int(str(payload.get("e", 0))) < int(timezone.now().timestamp()):
        raise DomainError("This playlist link has expired.", status=403)
    version = payload.get("v")
    named = version if isinstance(version, int) else None
    user_id = payload.get("u")
    if user_id == 0:
        return 0, named
    if not isinstance(user_id, int):
        raise DomainError("This playlist link is invalid.", status=403)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if (
        user is None
        or not constant_time_compare(str(payload.get("p")), password_claim(user))
        or not _binding_is_live(payload.get("b"), user)
    ):
        raise DomainError("This playlist link is invalid.", status=403)
    return user.pk, named


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


def _quoted(text: str) -> str:
    # An HLS quoted-string may hold neither a double quote nor a line break.
    return text.replace('"', "'").replace("\n", " ").replace("\r", " ")


def master_playlist(
    *, renditions: list[Rendition], token: str, subtitles: Sequence[SubtitleMedia] = ()
) -> str:
    """List the ready renditions, lowest bandwidth first, with a token-carrying variant URI,
    and the subtitle tracks as one SUBTITLES group."""
    # A rendition made before its packaging was stored cannot be described without reading
    # it from storage: it is left out here (video-url still plays it) until reprocessed.
    entries = sorted((r for r in renditions if has_hls_data(r)), key=lambda r: r.hls_bandwidth or 0)
    if not entries:
        raise NotFound("This film has no rendition that can be streamed with HLS.")
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for track in subtitles:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="{_quoted(track.label)}",'
            f'LANGUAGE="{_quoted(track.language)}",DEFAULT=NO,AUTOSELECT=YES,'
            f'URI="{_quoted(track.uri)}"'
        )
    group = ',SUBTITLES="subs"' if subtitles else ""
    for rendition in entries:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={rendition.hls_bandwidth},"
            f"AVERAGE-BANDWIDTH={rendition.hls_average_bandwidth or rendition.hls_bandwidth},"
            f"RESOLUTION={rendition.width}x{rendition.height},"
            f'CODECS="{rendition.hls_codecs}",NAME="{rendition.quality}"{group}'
        )
        # Relative to the master's URL, so proxies and other hosts need no configuration.
        lines.append(f"{rendition.quality}.m3u8?token={token}")
    return "\n".join(lines) + "\n"


def subtitle_playlist(*, duration: float, vtt_url: str) -> str:
    """A VOD media playlist whose one segment is the whole WebVTT file."""
    length = max(duration, 1.0)
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        f"#EXT-X-TARGETDURATION:{math.ceil(length)}\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{length:.6f},\n{vtt_url}\n#EXT-X-ENDLIST\n"
    )


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
