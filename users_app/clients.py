"""SPA clients that mailed links should land in (the `SPA_CLIENTS` setting).

`SPA_CLIENTS` maps an SPA's exact origin to its routes: `login` (where the viewer goes
after confirming on Affea's page), `confirm` (the SPA confirms by itself through
`POST /api/users/confirm/`) and `reset_password` (the SPA's `/reset-password` form). A
registration or forgot-password request whose `Origin` is such a client gets links to
it; any other request, or no setting at all, gets Affea's own pages.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest

ROUTES = ("login", "confirm", "reset_password")


def spa_client_of(request: HttpRequest | None) -> str:
    """The configured SPA origin a request came from, or "" for Affea itself and others."""
    if request is None:
        return ""
    origin = str(request.META.get("HTTP_ORIGIN") or "").rstrip("/")
    return origin if origin in settings.SPA_CLIENTS else ""


def spa_route(client: str, route: str) -> str | None:
    """The absolute URL of one of a configured client's routes, or None."""
    path = settings.SPA_CLIENTS.get(client, {}).get(route)
    return f"{client}{path}" if path else None


def spa_link(client: str, route: str, **query: str) -> str | None:
    url = spa_route(client, route)
    return f"{url}?{urlencode(query)}" if url else None
