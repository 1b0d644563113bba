"""`make run`'s orchestrator: one local configuration in .env, the platform up, Ctrl-C down."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

from affea.localdev import free_port, port_open

ROOT = Path(__file__).resolve().parents[2]


def _load_run_local() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_local", ROOT / "scripts" / "run_local.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_local = _load_run_local()

# What a manage.py command started from another directory sees of the services.
_SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "database": [s.DATABASES["default"]["ENGINE"], str(s.DATABASES["default"]["NAME"])],
    "redis": [s.REDIS_URL, s.CACHES["default"]["LOCATION"], s.RQ_QUEUES["default"]["URL"]],
    "s3": [s.STORAGE_BACKEND, s.AWS_S3_ENDPOINT_URL, s.AWS_STORAGE_BUCKET_NAME,
           s.AWS_ACCESS_KEY_ID, s.AWS_SECRET_ACCESS_KEY],
    "mail": [s.EMAIL_BACKEND, str(s.EMAIL_FILE_PATH)],
}))
"""


def _settings_seen_with(env_file: Path, cwd: Path) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _SETTINGS_PROBE],
        cwd=cwd,
        # Nothing exported but where the project is and which .env it reads.
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "affea.settings",
            "AFFEA_ENV_FILE": str(env_file),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_make_run_writes_its_services_to_env_once_and_keeps_what_the_user_wrote(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    user_lines = "# mine\nREDIS_URL=redis://127.0.0.1:6390/3\nS3_BUCKET='films'\nSITE_URL=x"
    env_file.write_text(user_lines)  # no final newline: the block must still start on its own line
    env = run_local.load_env({"AFFEA_VAR_DIR": str(tmp_path / "var")}, env_file)

    written = run_local.write_env_file(env_file, env)
    text_after_first_run = env_file.read_text()

    assert written == [
        "DATABASE_URL",
        "STORAGE_BACKEND",
        "S3_ENDPOINT_URL",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "EMAIL_URL",
        "AFFEA_VAR_DIR",
    ]
    assert text_after_first_run.startswith(user_lines + "\n")
    values = run_local.read_env_file(env_file)
    assert values["REDIS_URL"] == "redis://127.0.0.1:6390/3"  # the user's, not the default
    assert values["S3_BUCKET"] == "films"
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'var' / 'affea.sqlite3'}"
    assert values["EMAIL_URL"] == f"filemail://{tmp_path / 'var' / 'mail'}"
    assert values["S3_ENDPOINT_URL"] == "http://127.0.0.1:8333"

    again = run_local.load_env({"AFFEA_VAR_DIR": str(tmp_path / "var")}, env_file)
    assert run_local.write_env_file(env_file, again) == []
    assert env_file.read_text() == text_after_first_run


def test_an_exported_value_wins_over_env_for_make_run_and_is_what_it_records(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env = run_local.load_env({"REDIS_URL": "redis://127.0.0.1:6391/0"}, env_file)

    run_local.write_env_file(env_file, env)

    assert run_local.read_env_file(env_file)["REDIS_URL"] == "redis://127.0.0.1:6391/0"
    assert "AFFEA_VAR_DIR" not in run_local.read_env_file(env_file)  # not set, not recorded


def test_web_and_worker_get_make_runs_environment_not_a_second_reading_of_env(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("REDIS_URL=redis://127.0.0.1:6393/0\n")
    command = run_local.honcho_command()
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6394/0"}

    shown = subprocess.run(
        [*command[:-1], "run", sys.executable, "-c", "import os; print(os.environ['REDIS_URL'])"],
        cwd=tmp_path,  # where honcho would find that .env
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert shown.stdout.strip() == "redis://127.0.0.1:6394/0"


def test_manage_py_beside_make_run_reaches_the_same_services_without_exports(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env = run_local.load_env(
        {"AFFEA_VAR_DIR": str(tmp_path / "var"), "REDIS_URL": "redis://127.0.0.1:6392/0"},
        env_file,
    )
    run_local.write_env_file(env_file, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    seen = _settings_seen_with(env_file, cwd=elsewhere)

    assert seen == {
        "database": ["django.db.backends.sqlite3", str(tmp_path / "var" / "affea.sqlite3")],
        "redis": ["redis://127.0.0.1:6392/0"] * 3,
        "s3": ["s3", "http://127.0.0.1:8333", "affea", "affea-local", "affea-local-secret"],
        "mail": [
            "django.core.mail.backends.filebased.EmailBackend",
            str(tmp_path / "var" / "mail"),
        ],
    }


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


@pytest.mark.slow
def test_run_local_serves_health_and_admin_then_stops_everything_on_ctrl_c(
    tmp_path: Path,
) -> None:
    web, s3, redis_port = free_port(), free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("S3_", "DATABASE_URL", "AFFEA_TESTING", "STORAGE_BACKEND"))
    }
    env.update(
        {
            # A fresh checkout's defaults, moved to free ports and a private state dir:
            # SQLite, a Redis it must start itself, SeaweedFS it starts.
            "AFFEA_VAR_DIR": str(tmp_path / "var"),
            "AFFEA_ENV_FILE": str(tmp_path / ".env"),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3}",
            "WEB_BIND": f"127.0.0.1:{web}",
            "SITE_URL": f"http://127.0.0.1:{web}",
            "WEB_CONCURRENCY": "1",
        }
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_local.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's job
        )
    try:
        deadline = time.monotonic() + 240
        status, body = get(f"http://127.0.0.1:{web}/health/")
        while status != 200 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(1)
            status, body = get(f"http://127.0.0.1:{web}/health/")
        assert status == 200, log.read_text()
        assert json.loads(body)["components"] == {
            "database": "ok",
            "redis": "ok",
            "storage": "ok",
        }
        admin_status, admin_page = get(f"http://127.0.0.1:{web}/admin/login/")
        assert admin_status == 200
        assert b'name="username"' in admin_page  # the email field of the login form
    finally:
        # What Ctrl-C in a terminal does: SIGINT to the whole foreground group.
        os.killpg(process.pid, signal.SIGINT)
        exit_code = process.wait(timeout=90)

    output = log.read_text()
    assert exit_code == 0, output
    assert "Starting redis-server" in output
    assert "staff@affea.local" in output  # the demo credentials are printed
    # What manage.py commands beside it read: the Redis it started itself, its SQLite.
    recorded = run_local.read_env_file(tmp_path / ".env")
    assert recorded["REDIS_URL"] == f"redis://127.0.0.1:{redis_port}/0"
    assert recorded["DATABASE_URL"] == f"sqlite:///{tmp_path / 'var' / 'affea.sqlite3'}"
    for port in (web, s3, redis_port):
        assert not port_open("127.0.0.1", port), f"port {port} still open after Ctrl-C"
