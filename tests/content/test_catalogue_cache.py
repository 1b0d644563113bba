"""The shared catalogue cache: keyed by the catalogue version, built once, never an error."""

from __future__ import annotations

import threading
import time

import pytest

from content_app import catalogue_cache
from content_app.catalogue_cache import cached, catalogue_changed


def _counting_build(value: str, builds: list[str], *, seconds: float = 0.0):
    def build() -> str:
        builds.append(value)
        time.sleep(seconds)
        return value

    return build


def test_an_entry_is_reused_until_the_catalogue_changes() -> None:
    builds: list[str] = []

    first = cached("t", ("a",), _counting_build("one", builds), timeout=60)
    again = cached("t", ("a",), _counting_build("two", builds), timeout=60)
    catalogue_changed()
    after = cached("t", ("a",), _counting_build("three", builds), timeout=60)

    assert (first, again, after) == ("one", "one", "three")
    assert builds == ["one", "three"]


def test_concurrent_misses_build_the_entry_once() -> None:
    builds: list[str] = []
    results: list[str] = []

    def request() -> None:
        results.append(
            cached("t", ("b",), _counting_build("built", builds, seconds=0.5), timeout=60)
        )

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["built"] * 4
    assert builds == ["built"]


def test_a_builder_that_fails_lets_the_next_request_build_at_once() -> None:
    def broken() -> str:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cached("t", ("c",), broken, timeout=60)
    started = time.monotonic()

    assert cached("t", ("c",), lambda: "fine", timeout=60) == "fine"
    assert time.monotonic() - started < catalogue_cache.BUILD_WAIT / 10


def test_an_unreachable_cache_builds_every_time_without_error(settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    builds: list[str] = []

    values = [cached("t", ("d",), _counting_build("x", builds), timeout=60) for _ in range(2)]
    catalogue_changed()

    assert values == ["x", "x"]
    assert builds == ["x", "x"]
