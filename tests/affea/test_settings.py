"""Production settings refuse to start on development defaults and pass `check --deploy`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x7Qp9v" * 10,
    "ALLOWED_HOSTS": "affea.example",
    "SITE_URL": "https://affea.example",
    "S3_ACCESS_KEY_ID": "prod-key",
    "S3_SECRET_ACCESS_KEY": "prod-secret",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "AFFEA_TESTING"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "bad_value"),
    [
        ("SECRET_KEY", None),
        ("SECRET_KEY", "django-insecure-local-development-key-change-me-0123456789abcdef"),
        ("SECRET_KEY", "short"),
        ("ALLOWED_HOSTS", None),
        ("SITE_URL", "http://affea.example"),
        ("S3_ACCESS_KEY_ID", None),
        ("S3_SECRET_ACCESS_KEY", None),
    ],
)
def test_production_refuses_to_start_on_missing_or_insecure_value(
    variable: str, bad_value: str | None
) -> None:
    env = dict(PRODUCTION)
    if bad_value is None:
        del env[variable]
    else:
        env[variable] = bad_value

    result = manage("check", env=env)

    assert result.returncode != 0
    assert re.search(rf"ImproperlyConfigured: {variable}\b", result.stderr), result.stderr


def test_env_example_documents_every_variable_settings_read() -> None:
    settings_source = (ROOT / "affea" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )

    assert read - documented == set()
