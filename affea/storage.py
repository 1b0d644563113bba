"""Access to object storage beyond what Django's storage API offers."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from django.conf import settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


# lru_cache does not hold back a second thread asking while the first builds the client:
# the uploader's two requests at once on a fresh web worker built two (each ~15 MB).
_building = threading.Lock()


def s3_client(*, public: bool = False) -> S3Client:
    """Return this process's S3 client, created once: building one costs milliseconds.

    `public=True` gives the client that signs URLs for browsers, which may need to reach
    S3 at another address than the servers do (S3_PUBLIC_ENDPOINT_URL).
    """
    with _building:
        return _client(public)


def s3_client_reset() -> None:
    """Forget the clients, so the next ones are built from the settings as they are now."""
    with _building:
        _client.cache_clear()


@lru_cache(maxsize=2)
def _client(public: bool) -> S3Client:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.AWS_S3_PUBLIC_ENDPOINT_URL
        if public
        else settings.AWS_S3_ENDPOINT_URL,
        region_name=settings.AWS_S3_REGION_NAME,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY or None,
        config=Config(
            signature_version=settings.AWS_S3_SIGNATURE_VERSION,
            s3={"addressing_style": settings.AWS_S3_ADDRESSING_STYLE},  # type: ignore[arg-type]
            connect_timeout=3,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
