"""X-Forwarded-Proto makes a request secure only when TRUSTED_PROXY_COUNT says a proxy sets it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.affea.test_pages_unavailable import PRODUCTION

ROOT = Path(__file__).resolve().parents[2]

# A plain-HTTP request to gunicorn claiming, by header, to have come over HTTPS.
_REQUEST = """
import json, django
django.setup()
from django.test import Client
response = Client().get(
    "/accounts/login/", headers={"Host": "affea.example", "X-Forwarded-Proto": "https"}
)
print(json.dumps({"status": response.status_code, "location": response.get("Location", "")}))
"""


def _get(trusted_proxies: str, env: dict[str, str]) -> dict[str, object]:
    base = {k: v for k, v in env.items() if k not in PRODUCTION}
    result = subprocess.run(
        [sys.executable, "-c", _REQUEST],
        cwd=ROOT,
        env={
            **base,
            **PRODUCTION,
            "TRUSTED_PROXY_COUNT": trusted_proxies,
            "DJANGO_SETTINGS_MODULE": "affea.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.django_db
def test_forwarded_proto_is_ignored_without_a_trusted_proxy(
    subprocess_env: dict[str, str],
) -> None:
    answer = _get("0", subprocess_env)

    # Still plain HTTP to Django: SECURE_SSL_REDIRECT sends the client to HTTPS.
    assert answer["status"] == 301
    assert answer["location"] == "https://affea.example/accounts/login/"


@pytest.mark.django_db
def test_forwarded_proto_is_believed_behind_the_proxy(subprocess_env: dict[str, str]) -> None:
    answer = _get("1", subprocess_env)

    assert answer == {"status": 200, "location": ""}


def test_compose_trusts_the_proxy_because_nginx_overwrites_the_header() -> None:
    nginx = (ROOT / "nginx" / "nginx.conf").read_text()
    compose = (ROOT / "docker-compose.yml").read_text()

    # A client's own X-Forwarded-Proto never passes nginx: it sets the scheme it saw, unless
    # the request came from a load balancer the operator listed (none by default; the
    # behaviour is in test_nginx.py).
    assert "proxy_set_header X-Forwarded-Proto $affea_forwarded_proto;" in nginx
    assert '"1:https" https;' in nginx
    assert "default $scheme;" in nginx
    geo = nginx[nginx.index("geo $realip_remote_addr $affea_from_balancer {") :]
    listed = geo[: geo.index("}")].splitlines()[1:]
    assert [line.strip() for line in listed if line.strip() and line.strip()[0] != "#"] == [
        "default 0;"
    ]
    assert 'TRUSTED_PROXY_COUNT: "1"' in compose
