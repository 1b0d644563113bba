"""Redis-backed throttles for the account endpoints, per client IP and per account.

Each scope has a fixed window per key: the first hit starts the window (a Redis key with
a TTL), hits inside it are counted, and once the count reaches the limit every request
is refused with 429 and `Retry-After` until the key expires. Refused requests are not
counted and never extend the window, so a lockout always ends by itself: an attacker who
fails logins for a victim's account blocks it for at most one window, never for good.

A scope may count several keys, named `<source>` or `<source>_<anything>`: the source
`ip` counts per client address, `account` per email (or uid), `global` every request of
the scope, so one scope can hold a per-minute and a longer per-hour cap.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import Throttled


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP: from X-Forwarded-For only behind trusted proxies."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    # Each trusted proxy appends the address it saw; entries further left are the
    # client's own claims. Fewer entries than proxies means the left-most was written
    # by a trusted proxy too.
    candidate = hops[-proxies] if len(hops) >= proxies else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _rates(scope: str) -> dict[str, Rate]:
    configured = settings.ACCOUNT_THROTTLE_RATES[scope]
    return {kind: Rate(limit, window) for kind, (limit, window) in configured.items()}


def _key(scope: str, kind: str, value: str) -> str:
    # Hashed so neither addresses nor emails sit in Redis in clear. The throttle runs before
    # validation: a lone surrogate in JSON ("\ud800") must count, not raise.
    # Folded as accounts are found (`email__iexact`, UPPER() in PostgreSQL): "te<long s>t@…"
    # (U+017F) finds test@… and must count against it, not get a counter of its own.
    folded = value.strip().upper()
    digest = hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return (
        f"{settings.CACHES['default'].get('KEY_PREFIX', 'affea')}:throttle:{scope}:{kind}:{digest}"
    )


# DECR only keys that still exist: a DECR on an expired key would make one without expiry.
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
    if redis.call('exists', key) == 1 then redis.call('decr', key) end
end
"""


class AccountThrottle:
    """The throttle of one endpoint (`scope`) for one request's client IP and account."""

    def __init__(self, scope: str, request: HttpRequest, account: str | None) -> None:
        self.scope = scope
        self.rates = _rates(scope)
        values = {"ip": client_ip(request), "account": account or "", "global": "all"}
        self.keys: dict[str, str] = {}
        for kind in self.rates:
            value = values.get(kind.split("_", 1)[0], "")
            if value:
                self.keys[kind] = _key(scope, kind, value)

    def check_and_hit(self) -> None:
        """Count this attempt, and refuse it (429 with Retry-After) when that goes over a limit.

        One atomic step, before the work it guards: a check first and a count after would let
        every one of a burst of parallel requests pass the check before any was counted.
        """
        connection = _redis(settings.REDIS_URL)
        pipe = connection.pipeline(transaction=True)
        kinds = [kind for kind in self.keys if kind in self.rates]
        for kind in kinds:
            pipe.incr(self.keys[kind])
            pipe.expire(self.keys[kind], self.rates[kind].window, nx=True)
            pipe.ttl(self.keys[kind])
        results = pipe.execute()
        waits = []
        for index, kind in enumerate(kinds):
            count, ttl = results[3 * index], results[3 * index + 2]
            if int(count) > self.rates[kind].limit:
                waits.append(ttl if ttl and ttl > 0 else self.rates[kind].window)
        if waits:
            raise Throttled(wait=max(waits))

    def give_back(self) -> None:
        """Uncount the attempt check_and_hit counted, when it was no failure (a right
        password); a key that expired meanwhile is left gone."""
        keys = [key for kind, key in self.keys.items() if kind in self.rates]
        if keys:
            _redis(settings.REDIS_URL).eval(_GIVE_BACK, len(keys), *keys)

    def reset_account(self) -> None:
        """Forget the account's failures (after a successful login)."""
        if "account" in self.keys:
            _redis(settings.REDIS_URL).delete(self.keys["account"])
