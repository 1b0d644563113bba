"""Short-lived URLs to media objects, so video bytes never pass through Django.

Three modes, chosen by settings: CloudFront signed URLs when a key pair is configured,
S3 presigned URLs (Signature V4) otherwise, and Django-signed URLs to a Range-capable
view when `STORAGE_BACKEND=local`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import boto3
from botocore.credentials import ReadOnlyCredentials
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.models import TokenUser

from affea.errors import DomainError, NotFound, ServiceUnavailable
from affea.storage import s3_client
from content_app import selectors
from content_app.media.objects import content_type_for
from content_app.models import QUALITY_HEIGHTS, Film, Rendition, RenditionStatus
from users_app.authentication import account_for_token, token_matches_password, token_user_id

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


def playback_ttl(film: Film) -> int:
    """Seconds a URL used during a whole playback stays valid: the base TTL plus the film.

    A VOD playlist is fetched once; its segment URLs must still work at the last minute
    of the film, so their lifetime grows with the film's duration.
    """
    return min(MAX_URL_TTL, settings.AWS_QUERYSTRING_EXPIRE + math.ceil(film.duration or 0))


# --- S3 presigning ----------------------------------------------------------------


def _uri_encode(value: str, *, safe: str = "-_.~") -> str:
    return quote(value, safe=safe)


class S3Presigner:
    """Signature V4 query-string signing for GET, done locally in about 20 µs.

    botocore's `generate_presigned_url` walks endpoint rulesets and event hooks on every
    call (about 0.4 ms); the host, path prefix and region it resolves never change for a
    process, so they are taken once from `s3_client()` and each URL is only an HMAC.
    """

    _PROBE_KEY = "affea-presign-probe"

    def __init__(self, client: Any, bucket: str, credentials: Any) -> None:
        probe = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": self._PROBE_KEY}, ExpiresIn=60
        )
        parts = urlsplit(probe)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.path_prefix = parts.path[: -len(self._PROBE_KEY)]  # "/bucket/" or "/"
        self.region: str = client.meta.region_name or "us-east-1"
        self._credentials = credentials
        self._signing_keys: dict[tuple[str, str], bytes] = {}

    def _signing_key(self, secret: str, date: str) -> bytes:
        cached = self._signing_keys.get((secret, date))
        if cached is None:
            key = ("AWS4" + secret).encode()
            for part in (date, self.region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._signing_keys = {(secret, date): key}  # one day's key is all we need
            cached = key
        return cached

    def presign(
        self, key: str, *, expires_in: int, content_type: str | None = None, now: datetime
    ) -> str:
        creds: ReadOnlyCredentials = self._credentials.get_frozen_credentials()
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        date = amz_date[:8]
        scope = f"{date}/{self.region}/s3/aws4_request"
        # Names and most values are plain ASCII already; only these may need escaping.
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": _uri_encode(f"{creds.access_key}/{scope}"),
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(expires_in),
            "X-Amz-SignedHeaders": "host",
        }
        if creds.token:
            params["X-Amz-Security-Token"] = _uri_encode(creds.token)
        if content_type:
            params["response-content-type"] = _uri_encode(content_type)
        query = "&".join(f"{name}={value}" for name, value in sorted(params.items()))
        path = self.path_prefix + _uri_encode(key, safe="-_.~/")
        canonical = f"GET\n{path}\n{query}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        to_sign = (
            f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n"
            f"{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        signature = hmac.new(
            self._signing_key(creds.secret_key or "", date), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        return f"{self.origin}{path}?{query}&X-Amz-Signature={signature}"


class _StaticCredentials:
    def __init__(self, access_key: str, secret_key: str) -> None:
        self._frozen = ReadOnlyCredentials(access_key, secret_key, None)

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return self._frozen


@lru_cache(maxsize=4)
def _presigner(endpoint: str | None, bucket: str, access_key: str) -> S3Presigner:
    # Keyed on the settings that shape a URL, so a changed configuration gets a new one.
    if access_key and settings.AWS_SECRET_ACCESS_KEY:
        credentials: Any = _StaticCredentials(access_key, settings.AWS_SECRET_ACCESS_KEY)
    else:
        # No keys in settings: the provider chain (environment, instance role) refreshes.
        credentials = boto3.session.Session().get_credentials()
        if credentials is None:
            raise ServiceUnavailable("No credentials are configured for object storage.")
    return S3Presigner(s3_client(), bucket, credentials)


def s3_presigner() -> S3Presigner:
    return _presigner(
        settings.AWS_S3_ENDPOINT_URL, settings.AWS_STORAGE_BUCKET_NAME, settings.AWS_ACCESS_KEY_ID
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
    resource = f"https://{domain}/{_uri_encode(key, safe='-_.~/')}"
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
    return _sign(key, lifetime, now, request)


def _sign(key: str, lifetime: int, now: datetime, request: HttpRequest | None) -> SignedURL:
    expires_at = now + timedelta(seconds=lifetime)
    if settings.STORAGE_BACKEND == "local":
        token = local_media_token(key, expires_at=expires_at)
        path = reverse("content:local-media", kwargs={"token": token})
        return SignedURL(_absolute(path, request), expires_at)
    if cloudfront_enabled():
        return SignedURL(cloudfront_url(key, expires_at=expires_at), expires_at)
    url = s3_presigner().presign(
        key, expires_in=lifetime, content_type=content_type_for(key), now=now
    )
    return SignedURL(url, expires_at)


IMAGE_URL_WINDOW = 600


@lru_cache(maxsize=8192)
def _stable_url(key: str, window_start: int, lifetime: int, mode: tuple[Any, ...]) -> str:
    now = datetime.fromtimestamp(window_start, UTC)
    return _sign(key, lifetime, now, None).url


@lru_cache(maxsize=8192)
def _stable_local_path(key: str, window_start: int, lifetime: int) -> str:
    expires_at = datetime.fromtimestamp(window_start + lifetime, UTC)
    token = local_media_token(key, expires_at=expires_at)
    return reverse("content:local-media", kwargs={"token": token})


def image_window() -> int:
    """Start of the current image-URL window (seconds since the epoch)."""
    return int(timezone.now().timestamp()) // IMAGE_URL_WINDOW * IMAGE_URL_WINDOW


def image_url(key: str, *, request: HttpRequest | None = None) -> str:
    """A signed URL for a catalogue image that stays the same for ten minutes.

    Lists show dozens of images: signing each once per window (not per request) keeps
    lists fast, and a stable URL lets browsers cache the image. It is always valid for
    at least the playback TTL.
    """
    window = image_window()
    lifetime = min(MAX_URL_TTL, settings.AWS_QUERYSTRING_EXPIRE + IMAGE_URL_WINDOW)
    if settings.STORAGE_BACKEND == "local":
        return _absolute(_stable_local_path(key, window, lifetime), request)
    # The mode is part of the cache key so a changed configuration never serves old URLs.
    mode = (
        settings.AWS_S3_ENDPOINT_URL,
        settings.AWS_STORAGE_BUCKET_NAME,
        settings.AWS_ACCESS_KEY_ID,
        settings.CLOUDFRONT_DOMAIN if cloudfront_enabled() else "",
    )
    return _stable_url(key, window, lifetime, mode)


def choose_quality(available: dict[str, str], quality: str | None) -> tuple[str, str]:
    """From {quality: media key} of ready renditions, pick the one asked for or the best."""
    if quality is not None and quality not in QUALITY_HEIGHTS:
        raise DomainError(f"Unknown quality; use one of {', '.join(QUALITY_HEIGHTS)}.")
    if quality is not None:
        if quality not in available:
            raise NotFound("No playable rendition of this film in that quality.")
        return quality, available[quality]
    if not available:
        raise NotFound("No playable rendition of this film.")
    best = max(available, key=QUALITY_HEIGHTS.__getitem__)
    return best, available[best]


def rendition_for(film: Film, quality: str | None) -> Rendition:
    """Pick the ready rendition asked for, or the best ready one when `quality` is None."""
    ready = {
        r.quality: r
        for r in film.renditions.all()
        if r.status == RenditionStatus.READY and r.media_key
    }
    chosen, _ = choose_quality({q: r.media_key for q, r in ready.items()}, quality)
    return ready[chosen]


def viewer_renditions(*, user: Any, token: Any, film_id: int) -> dict[str, str]:
    """{quality: media key} the viewer may play of a film: `selectors.playable_renditions`.

    A `TokenUser` (CookieJWTAuthentication's `defer_account`) is an account not yet checked: one
    query checks it and reads the renditions a viewer sees. Only when that finds nothing
    (a bad account, or a film only staff may see) is the account checked on its own,
    which answers 401 or lets staff see their unpublished films.
    """
    if isinstance(user, TokenUser):
        renditions, password = selectors.viewer_renditions_with_account(
            film_id=film_id, user_id=token_user_id(token)
        )
        if password is not None and token_matches_password(token, password):
            return renditions
        user = account_for_token(token)
    return selectors.playable_renditions(user=user, film_id=film_id)


def video_url(
    *, renditions: dict[str, str], quality: str | None, request: HttpRequest | None = None
) -> VideoURL:
    """Sign the chosen rendition of {quality: media key} (the film's ready renditions)."""
    chosen, media_key = choose_quality(renditions, quality)
    signed = signed_media_url(media_key, request=request)
    return VideoURL(signed.url, chosen, signed.expires_at)
