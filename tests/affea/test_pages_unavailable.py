"""With PostgreSQL down, pages answer the friendly 503 page and the API its JSON 503, never 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from affea.localdev import free_port

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x7Qp9v" * 10,
    "ALLOWED_HOSTS": "affea.example",
    "SITE_URL": "https://affea.example",
    "S3_ACCESS_KEY_ID": "prod-key",
    "S3_SECRET_ACCESS_KEY": "prod-secret",
    "DMCA_AGENT_NAME": "Affea Legal",
    "DMCA_AGENT_ADDRESS": "1 Main Street, Albany, NY 12207",
    "DMCA_AGENT_EMAIL": "dmca@affea.example",
    "DMCA_AGENT_PHONE": "+1 518 555 0100",
    "EMAIL_URL": "smtp+tls://mailer:secret@mail.affea.example:587",
    "LOG_LEVEL": "CRITICAL",
}

# Calls gunicorn's entry point (affea.wsgi.application) with a plain WSGI environ, in a
# process whose DATABASE_URL names a closed port.
_REQUEST = """
import io, json, sys
from affea.wsgi import application
from django.template import loader

path, cookie = sys.argv[1], sys.argv[2]
environ = {
    "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "affea.example",
    "SERVER_PORT": "443", "HTTP_HOST": "affea.example", "SERVER_PROTOCOL": "HTTP/1.1",
    "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
    "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}
if cookie:
    environ["HTTP_COOKIE"] = cookie
answer = {}
def start_response(status, headers, exc_info=None):
    answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)
body = b"".join(application(environ, start_response)).decode()
answer["body"] = body
answer["is_503_page"] = body == loader.render_to_string("503.html")
print(json.dumps(answer))
"""


def _get(path: str, *, cookie: str = "") -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    closed = f"postgres://affea:secret-pw@127.0.0.1:{free_port()}/affea"
    result = subprocess.run(
        [sys.executable, "-c", _REQUEST, path, cookie],
        cwd=ROOT,
        env={**base, **PRODUCTION, "DATABASE_URL": closed},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.parametrize(
    ("path", "cookie"),
    [
        ("/", ""),
        # A signed-in viewer's session is read by a middleware before any view runs.
        ("/", "sessionid=0123456789abcdefghijklmnopqrstuv"),
        ("/films/any-film/", ""),
    ],
)
def test_pages_answer_the_friendly_503_page_when_postgresql_is_down(path: str, cookie: str) -> None:
    answer = _get(path, cookie=cookie)

    assert answer["status"] == 503
    assert answer["is_503_page"] is True
    headers = answer["headers"]
    assert isinstance(headers, dict)
    assert headers["Retry-After"] == "30"
    assert headers["Content-Type"].startswith("text/html")
    for leak in ("secret-pw", "127.0.0.1", "Traceback", "OperationalError"):
        assert leak not in str(answer["body"])


@pytest.mark.parametrize("cookie", ["", "sessionid=0123456789abcdefghijklmnopqrstuv"])
def test_the_api_answers_its_json_503_when_postgresql_is_down(cookie: str) -> None:
    answer = _get("/api/content/", cookie=cookie)

    assert answer["status"] == 503
    assert json.loads(str(answer["body"])) == {
        "detail": "A service Affea depends on is unavailable; try again shortly."
    }
