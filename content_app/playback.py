"""Short-lived URLs to media objects, so video bytes never pass through Django.

Three modes, chosen by settings: CloudFront signed URLs when a key pair is configured,
S3 presigned URLs (botocore, Signature V4, for the endpoint browsers reach) otherwise, and
Django-signed URLs to a Range-capable view when `STORAGE_BACKEND=local`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from affea import metrics
from affea.errors import DomainError, NotFound, ServiceUnavailable
from affea.storage import s3_client
from content_app.media.objects import content_type_for
from content_app.models import QUALITY_HEIGHTS, Film, Rendition, RenditionStatus

if TYPE_CHECKING:
    from django.http import HttpRequest

# SigV4 presigned URLs cannot outlive a week.
MAX_URL_TTL = 7 * 24 * 3600
LOCAL_MEDIA_SALT = "content_app.local-media"


@dataclass(frozen=True)
class SignedURL:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class VideoURL:
    url: str
    quality: str
    expires_at: datetime


def longest_seconds(renditions: Iterable[Rendition]) -> float:
    """The length of the longest of `renditions`, from their HLS segments."""
    return max((r.seconds for r in renditions), default=0.0)


def url_ttl_for(seconds: float) -> int:
    """Seconds a URL used during a whole playback of `seconds` stays valid: the base TTL
    plus the film (a VOD playlist is fetched once; its segment URLs must still work at the
    last minute of the film), capped at SigV4's week."""
    return min(MAX_URL_TTL, settings.AWS_QUERYSTRING_EXPIRE + math.ceil(seconds))


def playback_ttl(film: Film) -> int:
    """`url_ttl_for` the film; while it is reprocessed (no duration until the new probe), for
    the renditions on air, which still play for their own length."""
    duration = film.duration
    if duration is None:
        duration = longest_seconds(_on_air(film))
    return url_ttl_for(duration)


def _on_air(film: Film) -> Iterable[Rendition]:
    # Lists prefetch renditions (selectors.with_card_data): read those, not one query a film.
    prefetched = getattr(film, "_prefetched_objects_cache", {}).get("renditions")
    if prefetched is not None:
        return [
            r
            for r in prefetched
            if r.source_version == film.live_version and r.status == RenditionStatus.READY
        ]
    return Rendition.objects.filter(
        film_id=film.pk, source_version=film.live_version, status=RenditionStatus.READY
    ).only("seconds")


# --- S3 presigning ----------------------------------------------------------------


def s3_presigned_url(key: str, *, expires_in: int) -> str:
    """Presign a GET of `key` for browsers: signed for the public endpoint they can reach."""
    return s3_client(public=True).generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.AWS_STORAGE_BUCKET_NAME,
            "Key": key,
            "ResponseContentType": content_type_for(key),
        },
        ExpiresIn=expires_in,
    )


# --- CloudFront -------------------------------------------------------------------


def cloudfront_enabled() -> bool:
    return bool(
        settings.CLOUDFRONT_DOMAIN
        and settings.CLOUDFRONT_KEY_PAIR_ID
        and settings.CLOUDFRONT_PRIVATE_KEY
    )


@lru_cache(maxsize=4)
def _cloudfront_private_key(value: str) -> rsa.RSAPrivateKey:
    pem = value.replace("\\n", "\n")
    if not pem.lstrip().startswith("-----BEGIN"):
        pem = Path(pem).read_text()
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ServiceUnavailable("CLOUDFRONT_PRIVATE_KEY must be an RSA key.")
    return key


def _cloudfront_signer() -> CloudFrontSigner:
    key = _cloudfront_private_key(settings.CLOUDFRONT_PRIVATE_KEY)

    def rsa_sign(message: bytes) -> bytes:
        # CloudFront verifies canned-policy signatures as RSA-SHA1 PKCS#1 v1.5.
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

    return CloudFrontSigner(settings.CLOUDFRONT_KEY_PAIR_ID, rsa_sign)


def cloudfront_url(key: str, *, expires_at: datetime) -> str:
    domain = settings.CLOUDFRONT_DOMAIN.removeprefix("https://").rstrip("/")
    resource = f"https://{domain}/{quote(key, safe='-_.~/')}"
    return _cloudfront_signer().generate_presigned_url(resource, date_less_than=expires_at)


# --- Local storage ----------------------------------------------------------------


def local_media_token(key: str, *, expires_at: datetime) -> str:
    return signing.dumps(
        {"k": key, "e": int(expires_at.timestamp())}, salt=LOCAL_MEDIA_SALT, compress=True
    )


def local_media_key(token: str) -> str:
    """Return the storage key a local media token grants, or raise 403 for bad or late ones."""
    try:
        payload = signing.loads(token, salt=LOCAL_MEDIA_SALT)
    except signing.BadSignature as exc:
        raise DomainError("This media link is invalid.", status=403) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), str):
        raise DomainError("This media link is invalid.", status=403)
    if int(payload.get("e", 0)) < int(timezone.now().timestamp()):
        raise DomainError("This media link has expired.", status=403)
    return str(payload["k"])


def _absolute(path: str, request: HttpRequest | None) -> str:
    return request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path


# --- The one entry point ------------------------------------------------------------


def signed_media_url(
    key: str, *, ttl: int | None = None, request: HttpRequest | None = None
) -> SignedURL:
    """Return a URL that fetches storage object `key` (with Range support) until it expires."""
    lifetime = min(MAX_URL_TTL, ttl or settings.AWS_QUERYSTRING_EXPIRE)
    now = timezone.now().astimezone(UTC).replace(microsecond=0)
    expires_at = now + timedelta(seconds=lifetime)
    if settings.STORAGE_BACKEND == "local":
        token = local_media_token(key, expires_at=expires_at)
        path = reverse("content:local-media", kwargs={"token": token})
        return SignedURL(_absolute(path, request), expires_at)
    if cloudfront_enabled():
        return SignedURL(cloudfront_url(key, expires_at=expires_at), expires_at)
    return SignedURL(s3_presigned_url(key, expires_in=lifetime), expires_at)


def image_url(key: str, *, request: HttpRequest | None = None) -> str:
    """Return a signed URL of a catalogue image, valid for the playback TTL."""
    return signed_media_url(key, request=request).url


def choose_quality(available: dict[str, str], quality: str | None) -> tuple[str, str]:
    """From {quality: media key} of ready renditions, pick the one asked for or a fallback.

    A quality that is not ready, or that the film lacks (a 720p source has no 1080p),
    gives the best ready rendition below it, else the lowest ready one: clients pick a
    quality from the connection speed without knowing what the film offers.
    """
    if quality is not None and quality not in QUALITY_HEIGHTS:
        raise DomainError(f"Unknown quality; use one of {', '.join(QUALITY_HEIGHTS)}.")
    if not available:
        raise NotFound("No playable rendition of this film.")
    if quality is not None and quality in available:
        return quality, available[quality]
    ranked = sorted(available, key=QUALITY_HEIGHTS.__getitem__)
    if quality is not None:
        below = [q for q in ranked if QUALITY_HEIGHTS[q] < QUALITY_HEIGHTS[quality]]
        chosen = below[-1] if below else ranked[0]
    else:
        chosen = ranked[-1]
    return chosen, available[chosen]


def rendition_for(film: Film, quality: str | None) -> Rendition:
    """Pick the ready rendition asked for, or the best ready one when `quality` is None."""
    ready = {r.quality: r for r in film.renditions.all() if r.is_playable}
    chosen, _ = choose_quality({q: r.media_key for q, r in ready.items()}, quality)
    return ready[chosen]


def video_url(
    *, renditions: dict[str, str], quality: str | None, request: HttpRequest | None = None
) -> VideoURL:
    """Sign the chosen rendition of {quality: media key} (the film's ready renditions)."""
    chosen, media_key = choose_quality(renditions, quality)
    signed = signed_media_url(media_key, request=request)
    metrics.playback_url_issued(mode="progressive")
    return VideoURL(signed.url, chosen, signed.expires_at)
