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
from typing import TypeVar, cast

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VERSION_KEY = "content:catalogue-version"
# Seconds a request waits for another process to finish building the same entry.
BUILD_WAIT = 30
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
    """`build()`, shared by all web processes until the catalogue changes or `timeout` passes.

    One process builds a missing entry while the others wait for it (up to `BUILD_WAIT`):
    a large list costs seconds to build, and every request arriving meanwhile building it
    too would only slow each other down. Nothing older than the current version is served.
    """
    version = catalogue_version()
    if version is None:
        return build()
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"content:{name}:{version}:{digest}"
    try:
        hit: T | None = cache.get(key)
        if hit is not None:
            return hit
        building = cache.add(f"{key}:building", 1, BUILD_WAIT)
        if not building:
            waited = _wait_for(key)
            if waited is not None:
                return cast(T, waited)  # stored by `cached` for this very key
    except RedisError:
        return build()
    try:
        value = build()
        cache.set(key, value, timeout)
    except RedisError:
        logger.warning("catalogue cache unavailable; %s not stored", name)
    finally:
        if building:
            _release(f"{key}:building")
    return value


def _release(lock: str) -> None:
    try:
        cache.delete(lock)
    except RedisError:
        logger.warning("catalogue cache unavailable; %s expires by itself", lock)


def _wait_for(key: str) -> object | None:
    """The entry another process is building, once it is stored; None if it takes too long."""
    deadline = time.monotonic() + BUILD_WAIT
    while time.monotonic() < deadline:
        time.sleep(0.05)
        hit = cache.get(key)
        if hit is not None:
            return hit
        if not cache.get(f"{key}:building"):
            # Stored just now, or the builder gave up (an error): then build it here.
            return cache.get(key)
    return None
