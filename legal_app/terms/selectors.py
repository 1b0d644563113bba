"""Reads about terms and privacy versions that pages, the API and the middleware share."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from legal_app.models import LegalDocument, LegalDocumentKind, TermsAcceptance
from users_app.models import User

logger = logging.getLogger(__name__)

# The current terms version is read on every signed-in page view: cached, dropped by
# document_publish, and short-lived so that a lost invalidation heals by itself.
CURRENT_TERMS_KEY = "legal:terms:current"
CURRENT_TERMS_TTL = 300
_NONE = "-"


@dataclass(frozen=True)
class TermsRef:
    """The current terms version, as the middleware and the profile fields need it."""

    document_id: int
    version: str


def document_current(*, kind: LegalDocumentKind) -> LegalDocument | None:
    """The latest published version of `kind`, or None when none is published."""
    return (
        LegalDocument.objects.filter(kind=kind, published_at__isnull=False)
        .order_by("-published_at", "-pk")
        .first()
    )


def terms_current() -> TermsRef | None:
    """The current terms version from the cache (a cache that is down reads the database)."""
    try:
        cached = cache.get(CURRENT_TERMS_KEY)
    except RedisError:
        logger.warning("cache unavailable: reading the current terms from the database")
        cached = None
    if isinstance(cached, TermsRef):
        return cached
    if cached == _NONE:
        return None
    document = document_current(kind=LegalDocumentKind.TERMS)
    ref = TermsRef(document.pk, document.version) if document is not None else None
    with contextlib.suppress(RedisError):
        cache.set(CURRENT_TERMS_KEY, ref or _NONE, CURRENT_TERMS_TTL)
    return ref


def terms_current_forget() -> None:
    """Drop the cached current version now and once the publishing transaction commits."""

    def forget() -> None:
        try:
            cache.delete(CURRENT_TERMS_KEY)
        except RedisError:
            logger.warning("cache unavailable: the current terms stay cached until they expire")

    forget()
    transaction.on_commit(forget)


def terms_accepted_document(*, user: User, document_id: int) -> bool:
    return TermsAcceptance.objects.filter(user=user, document_id=document_id).exists()


def terms_accepted(*, user: User) -> bool:
    """Whether `user` has accepted the current terms (True when none are published)."""
    current = terms_current()
    return current is None or terms_accepted_document(user=user, document_id=current.document_id)


def terms_version_current() -> str | None:
    current = terms_current()
    return current.version if current is not None else None
