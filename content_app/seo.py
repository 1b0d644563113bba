"""What search engines and link unfurlers read: canonical URLs, descriptions, Open Graph,
Twitter cards and the JSON-LD `VideoObject` of a film."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from affea.numbers import parse_id
from content_app.models import Film

SITE_NAME = "Affea"
SITE_DESCRIPTION = (
    "Affea streams independent short films: festival favourites and new voices, free to "
    "browse, with captions and a player that starts fast."
)
# The escapes of Django's json_script: the JSON cannot close its <script> element.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@dataclass
class PageMeta:
    title: str
    description: str
    canonical: str
    noindex: bool = False
    og_type: str = "website"
    image: str = ""
    player_url: str = ""  # Twitter player card and og:video for embeddable films
    json_ld: SafeString = field(default_factory=lambda: mark_safe(""))


def absolute(path: str) -> str:
    """The public address of a path: SITE_URL, never the Host header a request came with."""
    return settings.SITE_URL + path


def _describe(text: str) -> str:
    plain = " ".join(text.split())
    return Truncator(plain).chars(160) if plain else SITE_DESCRIPTION


def site_meta(
    request: HttpRequest,
    *,
    title: str = SITE_NAME,
    description: str = SITE_DESCRIPTION,
    noindex: bool = False,
) -> PageMeta:
    page = request.GET.get("page", "")
    canonical = absolute(request.path) + (
        f"?page={page}" if parse_id(page) not in (None, 1) else ""
    )
    return PageMeta(
        title=title, description=_describe(description), canonical=canonical, noindex=noindex
    )


def iso_duration(seconds: float | None) -> str:
    """ISO 8601 duration (PT1M05S) as schema.org and the sitemap's video extension want."""
    total = max(0, math.ceil(seconds or 0))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return f"PT{hours}H{minutes}M{secs}S" if hours else f"PT{minutes}M{secs}S"


def film_urls(film: Film) -> dict[str, str]:
    """Stable public addresses of a film's page, poster and (when embeddable) player."""
    urls = {
        "page": absolute(reverse("content:film-detail", kwargs={"slug": film.slug})),
        "poster": "",
        "embed": "",
    }
    if film.poster.name or film.thumbnail.name:
        urls["poster"] = absolute(reverse("content:film-poster", kwargs={"slug": film.slug}))
    if film.public_playback:
        urls["embed"] = absolute(reverse("content:embed", kwargs={"slug": film.slug}))
    return urls


def video_object(film: Film) -> dict[str, object]:
    """The schema.org VideoObject of a film."""
    urls = film_urls(film)
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": film.title,
        "description": _describe(film.description or film.title),
        "url": urls["page"],
        "uploadDate": (film.published_at or film.created_at).isoformat(),
    }
    if urls["poster"]:
        data["thumbnailUrl"] = [urls["poster"]]
    if film.duration:
        data["duration"] = iso_duration(film.duration)
    if urls["embed"]:
        data["embedUrl"] = urls["embed"]
    if film.director:
        data["director"] = {"@type": "Person", "name": film.director}
    return data


def film_meta(request: HttpRequest, film: Film) -> PageMeta:
    urls = film_urls(film)
    encoded = json.dumps(video_object(film), ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    return PageMeta(
        title=film.title,
        description=_describe(film.description or film.title),
        canonical=urls["page"],
        og_type="video.other",
        image=urls["poster"],
        player_url=urls["embed"],
        json_ld=mark_safe(encoded),  # noqa: S308 - escaped above exactly as json_script does
    )


def site_context(request: HttpRequest) -> dict[str, object]:
    """Template context processor: what every page's <head> needs when a view gave no meta."""
    return {"site_url": settings.SITE_URL, "site_description": SITE_DESCRIPTION}
