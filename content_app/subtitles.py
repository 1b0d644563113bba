"""Subtitles and captions: SRT/WebVTT uploads stored as WebVTT, signed for players.

Players get them two ways: as `<track>` elements (progressive playback, API clients) and
as a SUBTITLES group of the HLS master, whose per-language media playlist is one WebVTT
segment behind a signed URL.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import webvtt
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from webvtt.errors import MalformedCaptionError, MalformedFileError

from affea.errors import DomainError, NotFound
from content_app import hls, playback, selectors
from content_app.models import Film, Subtitle

MAX_SUBTITLE_BYTES = 2 * 1024 * 1024
PLAYLIST_HEADERS = {"Cache-Control": "private, no-store"}


@dataclass(frozen=True)
class SubtitleTrack:
    language: str
    label: str
    url: str


# A BCP 47 tag's shape: a language, then subtags (script, region, variants) joined by "-".
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def language_tag(value: str) -> str:
    """A BCP 47 tag in its usual case ("pt-br" -> "pt-BR", "zh-hant" -> "zh-Hant"), so one
    language is one track; a clear error when `value` is not one. The tag names the track's
    playlist URL and the HLS master's LANGUAGE, so nothing else may pass."""
    value = value.strip()
    if not _LANGUAGE_TAG.fullmatch(value):
        raise ValidationError(
            "Use a BCP 47 language code: letters, then subtags joined by “-”, e.g. en, fr, pt-BR."
        )
    first, *rest = value.split("-")
    subtags = [first.lower()]
    for subtag in rest:
        if len(subtag) == 2 and subtag.isalpha():
            subtags.append(subtag.upper())  # region
        elif len(subtag) == 4 and subtag.isalpha():
            subtags.append(subtag.title())  # script
        else:
            subtags.append(subtag.lower())
    return "-".join(subtags)


def to_webvtt(upload: UploadedFile) -> ContentFile[bytes]:
    """Read an uploaded .vtt or .srt file and return it as WebVTT; a clear error otherwise."""
    if (upload.size or 0) > MAX_SUBTITLE_BYTES:
        raise ValidationError("A subtitle file may be at most 2 MB.")
    raw = upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("The subtitle file must be UTF-8 text.") from exc
    if "\x00" in text:
        raise ValidationError("The subtitle file holds a NUL character: it is not text.")
    is_srt = (upload.name or "").lower().endswith(".srt") or not text.lstrip().startswith("WEBVTT")
    try:
        if is_srt:
            captions = webvtt.from_buffer(io.StringIO(text).readlines(), format="srt")
        else:
            captions = webvtt.from_string(text)
    except (MalformedFileError, MalformedCaptionError, ValueError) as exc:
        kind = "SRT" if is_srt else "WebVTT"
        raise ValidationError(f"This is not a valid {kind} file ({exc}).") from exc
    if not captions.captions:
        raise ValidationError("The subtitle file holds no cues.")
    for number, caption in enumerate(captions.captions, 1):
        # Players drop a cue that ends before it starts: staff would never see it shown.
        if caption.end_in_seconds <= caption.start_in_seconds:
            raise ValidationError(
                f"Cue {number} ({caption.start} --> {caption.end}) ends before it starts."
            )
    try:
        content = captions.content
    except ValueError as exc:  # webvtt-py refuses a cue whose text holds "-->" or a blank line
        kind = "SRT" if is_srt else "WebVTT"
        raise ValidationError(f"This is not a valid {kind} file ({exc}).") from exc
    return ContentFile(content.encode("utf-8"), name="subtitles.vtt")


def subtitle_tracks(film: Film, *, request: HttpRequest | None = None) -> list[SubtitleTrack]:
    """Signed WebVTT URLs of a film's subtitles (prefetched by `selectors.with_card_data`)."""
    ttl = playback.playback_ttl(film)
    return [
        SubtitleTrack(
            s.language,
            s.label,
            playback.signed_media_url(s.file.name or "", ttl=ttl, request=request).url,
        )
        for s in film.subtitles.all()
    ]


def master_entries(film: Film, *, token: str) -> list[hls.SubtitleMedia]:
    """The SUBTITLES entries of a film's HLS master, each behind the master's own token."""
    return [
        hls.SubtitleMedia(
            s.language,
            s.label,
            reverse("content:subtitle-playlist", kwargs={"pk": film.pk, "language": s.language})
            + f"?token={token}",
        )
        for s in film.subtitles.all()
    ]


@require_GET
def subtitle_playlist(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """The one-segment WebVTT media playlist of a film's subtitles in `language`."""
    try:
        user_id = hls.variant_token_user(request.GET.get("token", ""), film_id=pk)
        viewer = selectors.playback_viewer(user_id)
        if viewer is None:
            raise DomainError("This playlist link is invalid.", status=403)
        if not _LANGUAGE_TAG.fullmatch(language):  # no track has it (nor can the database: NUL)
            raise NotFound("No such subtitles.")
        subtitle = (
            Subtitle.objects.filter(
                film__in=selectors.films_playable_by(viewer).filter(pk=pk).values("pk"),
                language=language,
            )
            .select_related("film")
            .first()
        )
        if subtitle is None:
            raise NotFound("No such subtitles.")
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    film = subtitle.film
    signed = playback.signed_media_url(
        subtitle.file.name or "", ttl=playback.playback_ttl(film), request=request
    )
    text = hls.subtitle_playlist(duration=film.duration or 0, vtt_url=signed.url)
    return HttpResponse(text, content_type=hls.PLAYLIST_CONTENT_TYPE, headers=PLAYLIST_HEADERS)
