"""`/health/`: every component reported, and a dead one named without leaking details."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from affea.localdev import free_port

ROOT = Path(__file__).resolve().parents[2]

# Runs the real view in a fresh process, so a service can be pointed at a dead port
# through the environment exactly as an operator's misconfiguration would.
_PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/health/")
print(json.dumps({"status": response.status_code, "body": response.content.decode()}))
"""


def _probe(env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "affea.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return answer["status"], answer["body"]


@pytest.mark.django_db
def test_health_reports_every_component_ok(client: Client) -> None:
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {"database": "ok", "redis": "ok", "storage": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("component", "variable", "dead_url"),
    [
        ("database", "DATABASE_URL", "postgres://affea:secret-pw@127.0.0.1:{port}/affea"),
        ("redis", "REDIS_URL", "redis://:secret-pw@127.0.0.1:{port}/0"),
        ("storage", "S3_ENDPOINT_URL", "http://127.0.0.1:{port}"),
    ],
)
def test_health_answers_503_naming_the_dead_component(
    subprocess_env: dict[str, str], component: str, variable: str, dead_url: str
) -> None:
    dead = dead_url.format(port=free_port())
    status, body = _probe({**subprocess_env, variable: dead})

    assert status == 503
    payload = json.loads(body)
    assert payload["status"] == "unavailable"
    assert payload["components"][component] == "unavailable"
    assert all(state == "ok" for name, state in payload["components"].items() if name != component)
    # Nothing about where or how the service was reached leaks to the public answer.
    for secret in (dead, "secret-pw", "127.0.0.1", "Traceback"):
        assert secret not in body


@pytest.mark.django_db
def test_health_rejects_unsafe_methods(client: Client) -> None:
    assert client.post("/health/").status_code == 405
