"""A shared cache of what viewers see, keyed by a catalogue version in Redis.

Write services call `catalogue_changed()` (publish, unpublish, edit, rendition ready,
state changes, delete, takedown); the version moves once their transaction commits, so
every web process stops using entries built before the change. Validating an entry is
one O(1) read, whatever the size of the catalogue. A cache that is down is a miss:
responses are then built for the request alone, never refused.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VERSION_KEY = "content:catalogue-version"
T = TypeVar("T")


def catalogue_changed() -> None:
    """Move the catalogue version now and again once the current transaction commits.

    The bump after commit is the one that matters: a process that rebuilt an entry from
    the data before the commit has it dropped. The bump at once keeps entries from before
    this write away from readers inside the same transaction.
    """
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        # No version yet (first change, or Redis restarted empty): any fresh value will do.
        _start_version()
    except RedisError:
        # Entries expire by themselves (`cached`'s timeout), so staleness stays bounded.
        logger.warning("catalogue version not moved: the cache is unavailable", exc_info=True)


def _start_version() -> None:
    # A value no earlier version can have had, so no old entry is ever picked up again.
    cache.add(VERSION_KEY, time.time_ns(), timeout=None)


def catalogue_version() -> int | None:
    """The current catalogue version, or None when the cache cannot be reached."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            _start_version()
            version = cache.get(VERSION_KEY)
    except RedisError:
        logger.warning("catalogue cache unavailable; building the response afresh")
        return None
    return int(version) if version is not None else None


def cached(name: str, parts: tuple[object, ...], build: Callable[[], T], *, timeout: int) -> T:
    """`build()`, shared by all web processes until the catalogue changes or `timeout` passes."""
    version = catalogue_version()
    if version is None:
        return build()
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"content:{name}:{version}:{digest}"
    try:
        hit: T | None = cache.get(key)
    except RedisError:
        return build()
    if hit is not None:
        return hit
    value = build()
    try:
        cache.set(key, value, timeout)
    except RedisError:
        logger.warning("catalogue cache unavailable; %s not stored", name)
    return value
