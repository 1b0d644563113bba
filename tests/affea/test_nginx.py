"""nginx/nginx.conf, rendered for loopback, validated by `nginx -t` and run in front of Django."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django import Settings

from affea.localdev import free_port, port_open
from tests.content.factories import make_film

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists(), reason="Debian's nginx is installed by `make test`"
)


def render_config(
    *,
    upstream: str,
    port: int,
    static_root: Path,
    media_root: Path,
    run: Path,
    balancer: bool = False,
) -> str:
    """Rewrite the production config's container paths and hosts for a loopback run
    (`balancer`: trust loopback as the load balancer in front, as an operator would)."""
    config = (ROOT / "nginx" / "nginx.conf").read_text()
    if balancer:
        config = config.replace("# 10.0.0.0/8 1;", "127.0.0.0/8 1;")
        config = config.replace("# set_real_ip_from 10.0.0.0/8;", "set_real_ip_from 127.0.0.1;")
    replacements = {
        "user nginx;": "user root;",
        "pid /var/run/nginx.pid;": f"pid {run}/nginx.pid;",
        "server web:8000;": f"server {upstream};",
        "listen 80 default_server;": f"listen 127.0.0.1:{port} default_server;",
        "alias /app/staticfiles/;": f"alias {static_root}/;",
        "alias /app/var/media/;": f"alias {media_root}/;",
        "access_log /dev/stdout affea;": f"access_log {run}/access.log affea;",
        "error_log /dev/stderr warn;": f"error_log {run}/error.log warn;",
    }
    for production, local in replacements.items():
        assert production in config, f"nginx.conf no longer contains {production!r}"
        config = config.replace(production, local)
    # Temp files of a test instance stay in its own directory.
    temp_paths = "".join(
        f"    {name}_temp_path {run}/{name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return config.replace("http {\n", "http {\n" + temp_paths, 1)


@dataclass
class Nginx:
    url: str
    media_root: Path
    access_log: Path


@pytest.fixture
def nginx(live_server: object, tmp_path: Path) -> Iterator[Nginx]:
    yield from _nginx(live_server, tmp_path, balancer=False)


@pytest.fixture
def nginx_behind_balancer(live_server: object, tmp_path: Path) -> Iterator[Nginx]:
    yield from _nginx(live_server, tmp_path, balancer=True)


def _nginx(live_server: object, tmp_path: Path, *, balancer: bool) -> Iterator[Nginx]:
    static_root = tmp_path / "static"
    (static_root / "css").mkdir(parents=True)
    (static_root / "css" / "marker.css").write_text("/* collected by the test */\n")
    media_root = tmp_path / "media"
    media_root.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    port = free_port()
    access_log = run / "access.log"
    upstream = str(live_server.url).removeprefix("http://")  # type: ignore[attr-defined]
    config = tmp_path / "nginx.conf"
    config.write_text(
        render_config(
            upstream=upstream,
            port=port,
            static_root=static_root,
            media_root=media_root,
            run=run,
            balancer=balancer,
        )
    )
    test = subprocess.run(
        [NGINX, "-t", "-c", str(config)], capture_output=True, text=True, check=False
    )
    assert test.returncode == 0, test.stderr
    process = subprocess.Popen([NGINX, "-c", str(config), "-g", "daemon off;"])
    try:
        for _ in range(100):
            if port_open("127.0.0.1", port):
                break
            time.sleep(0.05)
        yield Nginx(url=f"http://127.0.0.1:{port}", media_root=media_root, access_log=access_log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def fetch(
    url: str, *, method: str = "GET", data: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.django_db(transaction=True)
def test_nginx_answers_healthz_itself(nginx: Nginx) -> None:
    status, _, body = fetch(f"{nginx.url}/healthz")

    assert status == 200
    assert body == b"ok\n"


@pytest.mark.django_db(transaction=True)
def test_nginx_proxies_to_django_with_security_headers(nginx: Nginx) -> None:
    status, headers, body = fetch(f"{nginx.url}/health/")

    assert status == 200
    assert b'"database": "ok"' in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "nginx/" not in headers.get("Server", "")


@pytest.mark.django_db(transaction=True)
def test_each_security_header_is_sent_once(nginx: Nginx) -> None:
    # Django sets them too: a doubled Cross-Origin-Opener-Policy is a value browsers ignore.
    for path in ("/health/", "/static/css/marker.css"):
        with urllib.request.urlopen(f"{nginx.url}{path}", timeout=30) as response:
            for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                         "Cross-Origin-Opener-Policy"):  # fmt: skip
                assert len(response.headers.get_all(name) or []) == 1, (path, name)


@pytest.mark.django_db(transaction=True)
def test_nginx_serves_collected_static_files(nginx: Nginx) -> None:
    status, headers, body = fetch(f"{nginx.url}/static/css/marker.css")

    assert status == 200
    assert body == b"/* collected by the test */\n"
    assert "max-age=2592000" in headers["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_nginx_lets_large_bodies_through_to_django(nginx: Nginx) -> None:
    # 12 MB is above nginx's 1 MB default: Django answers (CSRF refusal), not nginx's 413.
    status, _, body = fetch(f"{nginx.url}/health/", method="POST", data=b"x" * 12_000_000)

    assert status == 403
    assert b"That form expired" in body  # Django's own CSRF page (templates/403_csrf.html)


@pytest.mark.django_db(transaction=True)
def test_nginx_rate_limits_auth_routes(nginx: Nginx) -> None:
    statuses = [fetch(f"{nginx.url}/api/users/email-exists/?email=a@b.c")[0] for _ in range(15)]

    assert 429 in statuses
    assert statuses.index(429) >= 10  # the burst of 10 goes through first


@pytest.mark.django_db(transaction=True)
def test_nginx_rate_limits_sign_in_posts_but_not_the_page(nginx: Nginx) -> None:
    pages = [fetch(f"{nginx.url}/admin/login/")[0] for _ in range(15)]
    posts = [fetch(f"{nginx.url}/admin/login/", method="POST", data=b"")[0] for _ in range(15)]

    assert 429 not in pages
    assert 429 in posts
    assert posts.index(429) >= 10  # the burst of 10 goes through first (to Django's 403)


@pytest.mark.django_db(transaction=True)
def test_nginx_never_serves_the_internal_media_location(nginx: Nginx) -> None:
    status, _, _ = fetch(f"{nginx.url}/protected-media/films/anything.mp4")

    assert status == 404


@pytest.mark.django_db(transaction=True)
def test_nginx_sends_local_media_that_django_hands_over(nginx: Nginx, settings: Settings) -> None:
    from content_app.playback import local_media_token

    settings.MEDIA_X_ACCEL_PREFIX = "/protected-media/"
    film_dir = nginx.media_root / "films" / "abc"
    film_dir.mkdir(parents=True)
    (film_dir / "720p.mp4").write_bytes(bytes(range(256)) * 40)
    token = local_media_token(
        "films/abc/720p.mp4", expires_at=timezone.now() + timedelta(minutes=5)
    )

    status, headers, body = fetch(
        f"{nginx.url}/media/signed/{token}", headers={"Range": "bytes=256-511"}
    )

    # nginx, not Django, answered the range from the internal location.
    assert status == 206
    assert headers["Content-Range"] == "bytes 256-511/10240"
    assert body == bytes(range(256))
    assert "X-Accel-Redirect" not in headers


@pytest.mark.django_db(transaction=True)
def test_nginx_keeps_account_link_tokens_out_of_its_access_log(nginx: Nginx) -> None:
    fetch(f"{nginx.url}/accounts/confirm/MQ/secret-token-123/")
    fetch(f"{nginx.url}/accounts/password/reset/MQ/secret-token-456/")
    fetch(f"{nginx.url}/health/")

    deadline = time.monotonic() + 5  # nginx writes the line as the request finalises
    while "GET /health/ " not in nginx.access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    logged = nginx.access_log.read_text()
    assert "secret-token" not in logged
    assert "/accounts/confirm/[redacted]" in logged
    assert "/accounts/password/reset/[redacted]" in logged
    assert "GET /health/ " in logged


@pytest.mark.django_db(transaction=True)
def test_nginx_keeps_playlist_tokens_out_of_its_access_log(nginx: Nginx) -> None:
    fetch(f"{nginx.url}/api/content/7/hls/360p.m3u8?token=secret-hls-token")
    fetch(f"{nginx.url}/films/7/subtitles/en.m3u8?token=secret-subtitle-token")
    fetch(f"{nginx.url}/health/")

    deadline = time.monotonic() + 5
    while "GET /health/ " not in nginx.access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    logged = nginx.access_log.read_text()
    assert "secret-" not in logged
    assert "/api/content/7/hls/360p.m3u8?[redacted]" in logged
    assert "/films/7/subtitles/en.m3u8?[redacted]" in logged


@pytest.mark.django_db(transaction=True)
def test_only_the_embed_page_may_be_framed(nginx: Nginx) -> None:
    film = make_film(public_playback=True)

    _, embed, _ = fetch(f"{nginx.url}/embed/{film.slug}/")
    _, page, _ = fetch(f"{nginx.url}/films/{film.slug}/")

    # DENY beside frame-ancestors * blocked embeds in browsers that read only the former.
    assert "X-Frame-Options" not in embed
    assert embed["Content-Security-Policy"] == "frame-ancestors *"
    assert page["X-Frame-Options"] == "DENY"


def _scheme_django_saw(nginx: Nginx, settings: Settings) -> str:
    # What TRUSTED_PROXY_COUNT=1 configures: Django trusts the scheme nginx forwards. The
    # scheme shows in the absolute link to the list's next page.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    make_film(), make_film()
    _, _, body = fetch(
        f"{nginx.url}/api/content/?page=1&page_size=1", headers={"X-Forwarded-Proto": "https"}
    )
    return str(json.loads(body)["next"]).split(":", 1)[0]


@pytest.mark.django_db(transaction=True)
def test_a_client_cannot_claim_https_through_nginx(nginx: Nginx, settings: Settings) -> None:
    assert _scheme_django_saw(nginx, settings) == "http"


@pytest.mark.django_db(transaction=True)
def test_a_trusted_load_balancer_passes_on_its_https(
    nginx_behind_balancer: Nginx, settings: Settings
) -> None:
    # With nginx's own scheme it was http: Django redirected to https, for ever.
    assert _scheme_django_saw(nginx_behind_balancer, settings) == "https"
