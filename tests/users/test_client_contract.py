"""Contract: the call sequences of an SPA client of API.md, replayed against gunicorn.

gunicorn serves the project as configured (two processes, real PostgreSQL, Redis and
S3), mail goes out through a real `rqworker` into a `filemail://` directory, and the
SPA is a browser model (tests/users/spa_browser.py) that keeps cookies, sends CORS
preflights and refreshes on a 401 the way those clients do.
"""

from __future__ import annotations

import email
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from rest_framework_simplejwt.tokens import AccessToken

from affea.localdev import free_port, stop_process
from tests.content.factories import make_film
from tests.users.conftest import PASSWORD
from tests.users.spa_browser import REFRESH, REFRESH_COOKIE, Call, SPABrowser

ROOT = Path(__file__).resolve().parents[2]
SPA = "http://localhost:4200"
ROUTES = {"login": "/login", "confirm": "/confirm", "reset_password": "/reset-password"}
ACCESS_COOKIE = "access_token"
EMAIL = "ann@example.com"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    outbox: Path
    log: Path


@pytest.fixture
def server(subprocess_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    """gunicorn with gunicorn.conf.py, configured for one SPA origin, on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = {
        **subprocess_env,
        "DJANGO_SETTINGS_MODULE": "affea.settings",
        "SITE_URL": url,
        "CORS_ALLOWED_ORIGINS": SPA,
        "SPA_CLIENTS": json.dumps({SPA: ROUTES}),
        "EMAIL_URL": f"filemail://{outbox}",
        # Two processes: the concurrent refreshes may meet in different ones, as in production.
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "affea.wsgi"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{url}/health/"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield Server(url=url, env=env, outbox=outbox, log=log)
    finally:
        stop_process(process)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or no worker booted yet
        return False


def _deliver_mail(server: Server) -> Message:
    """Run the queued jobs in a real worker, as production does; return the one mail sent."""
    worker = subprocess.run(
        [sys.executable, "manage.py", "rqworker", "default", "--burst"],
        cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr[-3000:]
    files = list(server.outbox.iterdir())
    assert len(files) == 1, (files, worker.stderr[-3000:])
    return email.message_from_bytes(files[0].read_bytes())


def _text_part(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def _expired(access: str) -> str:
    """The same access token with its expiry passed: what a browser sends after 5 minutes."""
    token = AccessToken(access)  # type: ignore[arg-type]
    token.set_exp(from_time=token.current_time - timedelta(minutes=1), lifetime=timedelta(0))
    assert token["exp"] < time.time()
    return str(token)


def _sign_up_and_in(spa: SPABrowser, server: Server) -> requests.Response:
    # The sign-up form checks the address as the viewer types it.
    for typed in ("ann@e.co", "ann@ex.co", "ann@example.co", EMAIL):
        checked = spa.call("GET", "/api/users/email-exists/", email=typed)
        assert (checked.status_code, checked.json()) == (200, {"exists": False}), typed
    body = {"email": EMAIL, "password": PASSWORD, "confirm_password": PASSWORD}
    registered = spa.call("POST", "/api/users/register/", json=body)
    assert (registered.status_code, registered.json()) == (201, {"email": EMAIL})

    link = re.search(r"\S+/confirm\?\S+", _text_part(_deliver_mail(server)))
    assert link, "no confirmation link in the mail"
    assert link.group().startswith(f"{SPA}/confirm?")  # the SPA's route: it confirms itself
    query = {name: values[0] for name, values in parse_qs(urlsplit(link.group()).query).items()}
    confirmed = spa.call("POST", "/api/users/confirm/", json=query)
    assert confirmed.status_code == 200, confirmed.text

    login = spa.call("POST", "/api/users/login/", json={"email": EMAIL, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return login


def _concurrently(spa: SPABrowser, paths: tuple[str, ...]) -> list[requests.Response]:
    """One page's API calls fired at once; each 401 is in hand before either refreshes."""
    start, refreshes = threading.Barrier(len(paths)), threading.Barrier(len(paths))
    spa.before_refresh = lambda: refreshes.wait(timeout=30)
    answers: dict[str, requests.Response] = {}

    def fire(path: str) -> None:
        start.wait(timeout=30)
        answers[path] = spa.call("GET", path)

    threads = [threading.Thread(target=fire, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    spa.before_refresh = lambda: None
    return [answers[path] for path in paths]


def test_an_spa_client_signs_up_watches_refreshes_concurrently_and_logs_out(
    server: Server,
) -> None:
    film = make_film(upload=True, qualities=("120p", "360p"))
    spa = SPABrowser(server.url, SPA)

    login = _sign_up_and_in(spa, server)
    assert {"id", "email", "username", "favorite_videos"} <= set(login.json())
    assert login.json()["favorite_videos"] == []
    assert spa.cookie(ACCESS_COOKIE)
    assert spa.cookie(REFRESH_COOKIE)

    films = spa.call("GET", "/api/content/")
    assert films.status_code == 200
    (item,) = (f for f in films.json() if f["id"] == film.pk)
    assert item["converted_files"] == {"120p": True, "360p": True}

    # Five minutes later the page fires two calls with the expired access cookie.
    spa.replace_cookie(ACCESS_COOKIE, _expired(str(spa.cookie(ACCESS_COOKIE))))
    refresh_before = spa.cookie(REFRESH_COOKIE)
    spa.calls.clear()
    me, favorites = _concurrently(spa, ("/api/users/me/", "/api/content/favorites/"))

    assert (me.status_code, me.json()["email"]) == (200, EMAIL)
    assert (favorites.status_code, favorites.json()) == (200, [])
    refreshes = [c for c in spa.calls if c.path == REFRESH]
    # Both refreshes carried the one cookie the browser held, and both succeeded.
    assert refreshes == [Call("POST", REFRESH, 200, False, refresh_before)] * 2
    for path in ("/api/users/me/", "/api/content/favorites/"):
        assert [(c.status, c.retry) for c in spa.calls if c.path == path] == [
            (401, False),
            (200, True),
        ]

    # A fast connection asks for 1080p; the film's best rendition is 360p.
    played = spa.call("GET", f"/api/content/video-url/{film.pk}/", quality="1080p")
    assert played.status_code == 200, played.text
    assert played.json()["quality"] == "360p"
    first_bytes = requests.get(played.json()["url"], headers={"Range": "bytes=0-99"}, timeout=30)
    assert first_bytes.status_code == 206
    assert len(first_bytes.content) == 100

    toggled_on = spa.call("POST", "/api/content/add-favorite/", json={"video_id": film.pk})
    assert (toggled_on.status_code, toggled_on.json()) == (200, [film.pk])
    assert [f["id"] for f in spa.call("GET", "/api/content/favorites/").json()] == [film.pk]
    toggled_off = spa.call("POST", "/api/content/add-favorite/", json={"video_id": film.pk})
    assert (toggled_off.status_code, toggled_off.json()) == (200, [])

    # Idle past the access cookie's Max-Age: the browser sends the refresh cookie alone.
    spa.drop_cookie(ACCESS_COOKIE)
    signed_in_refresh = str(spa.cookie(REFRESH_COOKIE))
    spa.calls.clear()
    logout = spa.call("POST", "/api/users/logout/", json={})

    assert logout.status_code == 200, logout.text
    assert [c.path for c in spa.calls] == ["/api/users/logout/"]  # no refresh needed
    assert spa.cookie(ACCESS_COOKIE) is None
    assert spa.cookie(REFRESH_COOKIE) is None
    spa.calls.clear()
    assert spa.call("GET", "/api/users/me/").status_code == 401
    assert [(c.path, c.status) for c in spa.calls] == [
        ("/api/users/me/", 401),
        (REFRESH, 401),
    ]
    # The refresh token the browser dropped is dead on the server too, not merely forgotten.
    replayed = SPABrowser(server.url, SPA)
    replayed.session.cookies.set(REFRESH_COOKIE, signed_in_refresh)
    assert replayed.call("POST", REFRESH, json={}).status_code == 401
