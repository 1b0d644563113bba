"""A browser running an SPA client of API.md, as the contract test drives it.

It keeps cookies like a browser with `withCredentials`, sends the SPA's `Origin`, sends
the CORS preflight a browser would (and caches it for `Access-Control-Max-Age`), refuses
to hand the client a response that CORS would hide, and behaves like the clients'
HTTP interceptor: on a 401 it calls `POST /api/users/refresh/` once and retries the
request with `X-Retry: 1`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import Cookie, CookieJar
from http.cookies import SimpleCookie
from typing import Any

import requests

REFRESH = "/api/users/refresh/"
REFRESH_COOKIE = "refresh_token"
_SIMPLE_METHODS = frozenset({"GET", "HEAD", "POST"})


@dataclass(frozen=True)
class Call:
    """One request the SPA made (preflights are not calls: the client never sees them)."""

    method: str
    path: str
    status: int
    retry: bool
    sent_refresh: str | None  # the refresh cookie the browser attached, if any


def _sent_cookie(response: requests.Response, name: str) -> str | None:
    cookies: SimpleCookie = SimpleCookie(str(response.request.headers.get("Cookie", "")))
    return cookies[name].value if name in cookies else None


class SPABrowser:
    def __init__(self, base_url: str, origin: str) -> None:
        self.base_url = base_url
        self.origin = origin
        self.session = requests.Session()
        self.session.headers["Origin"] = origin
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._preflights: dict[tuple[str, str, frozenset[str]], float] = {}
        # Runs between a 401 and its refresh; a test holds concurrent calls there.
        self.before_refresh: Callable[[], object] = lambda: None

    def call(self, method: str, path: str, *, json: Any = None, **params: str) -> requests.Response:
        """What the client's code does for one API call, interceptor included."""
        response = self._send(method, path, json=json, params=params)
        if response.status_code != 401 or path == REFRESH:
            return response
        self.before_refresh()
        if self._send("POST", REFRESH, json={}).status_code != 200:
            return response  # the client gives up and shows its sign-in screen
        return self._send(method, path, json=json, params=params, retry=True)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: dict[str, str] | None = None,
        retry: bool = False,
    ) -> requests.Response:
        headers = {"X-Retry": "1"} if retry else {}
        if json is not None:
            headers["Content-Type"] = "application/json"
        self._preflight(method, path, headers)
        response = self.session.request(
            method, self.base_url + path, json=json, params=params, headers=headers, timeout=30
        )
        self._assert_cors_allows(response, f"{method} {path}")
        call = Call(
            method, path, response.status_code, retry, _sent_cookie(response, REFRESH_COOKIE)
        )
        with self._lock:
            self.calls.append(call)
        return response

    def _preflight(self, method: str, path: str, headers: dict[str, str]) -> None:
        """Send the OPTIONS request a browser sends before a non-simple cross-origin call."""
        names = frozenset(name.lower() for name in headers)
        if method in _SIMPLE_METHODS and not names:
            return
        key = (method, path, names)
        with self._lock:
            if self._preflights.get(key, 0.0) > time.monotonic():
                return
        request_headers = {
            "Origin": self.origin,
            "Access-Control-Request-Method": method,
            **({"Access-Control-Request-Headers": ",".join(sorted(names))} if names else {}),
        }
        response = requests.options(self.base_url + path, headers=request_headers, timeout=30)
        where = f"preflight of {method} {path}"
        assert response.status_code in (200, 204), (where, response.status_code)
        self._assert_cors_allows(response, where)
        allowed_methods = response.headers.get("Access-Control-Allow-Methods", "").upper()
        assert method in allowed_methods, (where, allowed_methods)
        allowed = response.headers.get("Access-Control-Allow-Headers", "").lower()
        assert all(name in allowed for name in names), (where, allowed)
        max_age = int(response.headers.get("Access-Control-Max-Age", "0"))
        with self._lock:
            self._preflights[key] = time.monotonic() + max_age

    def _assert_cors_allows(self, response: requests.Response, where: str) -> None:
        """A credentialed response the browser would hide from the SPA fails the contract."""
        assert response.headers.get("Access-Control-Allow-Origin") == self.origin, (
            where,
            dict(response.headers),
        )
        assert response.headers.get("Access-Control-Allow-Credentials") == "true", where

    def cookie(self, name: str) -> str | None:
        return self.session.cookies.get(name)

    def _stored(self) -> list[Cookie]:
        jar: CookieJar = self.session.cookies  # iterated as a jar: Cookie objects, not names
        return list(jar)

    def replace_cookie(self, name: str, value: str) -> None:
        """Give a cookie the browser holds another value (same domain, path and flags)."""
        for stored in self._stored():
            if stored.name == name:
                stored.value = value
                return
        raise AssertionError(f"the browser holds no {name} cookie")

    def drop_cookie(self, name: str) -> None:
        """What the browser does once the cookie's Max-Age has passed."""
        for stored in self._stored():
            if stored.name == name:
                self.session.cookies.clear(stored.domain, stored.path, name)
